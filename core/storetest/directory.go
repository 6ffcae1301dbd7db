package storetest

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// directoryCases test storage.DirectoryStore. They are skipped, with a message, for a store
// that does not implement it (a Store need not keep conversation directories).
func directoryCases() []tcase {
	return []tcase{
		{"DirectoryCreateGetList", testDirCreateGetList},
		{"DirectoryPagingWithTies", testDirPagingTies},
		{"DirectoryClaimIsExclusive", testDirClaimExclusive},
		{"DirectoryUpdate", testDirUpdate},
		{"DirectoryClearKeepsIDAndSequence", testDirClear},
		{"DirectoryDeleteRemovesEverything", testDirDelete},
		{"DirectoryBoundedPerOwner", testDirBounded},
		{"DirectoryEventsInOrder", testDirEvents},
		{"DirectoryInvalidInput", testDirInvalid},
	}
}

// dir returns the store and its peer as DirectoryStores, or skips the case.
func (h *harness) dir(t *testing.T) (storage.DirectoryStore, storage.DirectoryStore) {
	t.Helper()
	d, ok := h.store.(storage.DirectoryStore)
	if !ok {
		t.Skip("the store does not implement storage.DirectoryStore")
	}
	p, ok := h.peer.(storage.DirectoryStore)
	if !ok {
		t.Fatalf("the peer store (%T) does not implement storage.DirectoryStore", h.peer)
	}
	return d, p
}

func owner() string { return "owner-" + core.NewID() }

// baseTime is a recent time in ms, so entries are far from expiring.
func baseTime() int64 { return time.Now().UnixMilli() }

func mustCreate(t *testing.T, h *harness, d storage.DirectoryStore, own, id, title string, created int64) storage.Conversation {
	t.Helper()
	c, isNew, err := d.CreateConversation(h.ctx(t), own, storage.Conversation{ID: id, Title: title, Created: created}, 0)
	if err != nil || !isNew {
		t.Fatalf("create %s: new=%v err=%v", id, isNew, err)
	}
	return c
}

func ids(cs []storage.Conversation) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testDirCreateGetList(t *testing.T, h *harness) {
	d, p := h.dir(t)
	own, now := owner(), baseTime()
	a, b, c := session(), session(), session()
	got := mustCreate(t, h, d, own, a, "first", now-3000)
	want := storage.Conversation{ID: a, Title: "first", Created: now - 3000, LastActive: now - 3000}
	if got != want {
		t.Fatalf("created %+v, want %+v", got, want)
	}
	mustCreate(t, h, d, own, b, "", now-2000)
	mustCreate(t, h, p, own, c, "third", now-1000)
	again, isNew, err := d.CreateConversation(h.ctx(t), own, storage.Conversation{ID: a, Title: "other", Created: now}, 0)
	if err != nil || isNew || again != want {
		t.Fatalf("create again = %+v new=%v err=%v, want the existing entry unchanged", again, isNew, err)
	}
	if g, err := p.GetConversation(h.ctx(t), own, a); err != nil || g != want {
		t.Fatalf("get through the peer = %+v, %v", g, err)
	}
	page, err := p.ListConversations(h.ctx(t), own, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(page.Conversations)) != fmt.Sprint([]string{c, b, a}) || page.Next != "" {
		t.Fatalf("list = %v next %q, want newest first [%s %s %s] and no next page", ids(page.Conversations), page.Next, c, b, a)
	}
	first, err := d.ListConversations(h.ctx(t), own, "", 2)
	if err != nil || len(first.Conversations) != 2 || first.Next == "" {
		t.Fatalf("first page of 2 = %v next %q err %v", ids(first.Conversations), first.Next, err)
	}
	rest, err := d.ListConversations(h.ctx(t), own, first.Next, 2)
	if err != nil || fmt.Sprint(ids(rest.Conversations)) != fmt.Sprint([]string{a}) || rest.Next != "" {
		t.Fatalf("second page = %v next %q err %v, want [%s]", ids(rest.Conversations), rest.Next, err, a)
	}
	empty, err := d.ListConversations(h.ctx(t), owner(), "", 10)
	if err != nil || len(empty.Conversations) != 0 {
		t.Fatalf("an owner without conversations lists %v, %v", ids(empty.Conversations), err)
	}
}

func testDirPagingTies(t *testing.T, h *harness) {
	d, _ := h.dir(t)
	own, now := owner(), baseTime()
	const n = 7
	want := map[string]bool{}
	for i := 0; i < n; i++ {
		id := session()
		mustCreate(t, h, d, own, id, "", now) // all with the same LastActive
		want[id] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		page, err := d.ListConversations(h.ctx(t), own, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Conversations {
			if seen[c.ID] {
				t.Fatalf("%s listed twice", c.ID)
			}
			seen[c.ID] = true
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(seen) != n {
		t.Fatalf("paging saw %d of %d conversations", len(seen), n)
	}
}

func testDirClaimExclusive(t *testing.T, h *harness) {
	d, p := h.dir(t)
	alice, mallory, now := owner(), owner(), baseTime()
	id := session()
	want := mustCreate(t, h, d, alice, id, "mine", now)
	ctx := h.ctx(t)
	if _, _, err := p.CreateConversation(ctx, mallory, storage.Conversation{ID: id, Created: now}, 0); !errors.Is(err, storage.ErrConversationNotFound) {
		t.Fatalf("another owner claiming it: %v, want ErrConversationNotFound", err)
	}
	title := "stolen"
	for name, err := range map[string]error{
		"get":    second(p.GetConversation(ctx, mallory, id)),
		"update": second(p.UpdateConversation(ctx, mallory, id, storage.ConversationUpdate{Title: &title})),
		"clear":  second(p.ClearConversation(ctx, mallory, id, now)),
		"delete": p.DeleteConversation(ctx, mallory, id),
	} {
		if !errors.Is(err, storage.ErrConversationNotFound) {
			t.Errorf("%s by another owner: %v, want ErrConversationNotFound", name, err)
		}
	}
	if got, err := d.GetConversation(ctx, alice, id); err != nil || got != want {
		t.Fatalf("after refused calls the entry is %+v, %v; want %+v unchanged", got, err, want)
	}
	if page, _ := p.ListConversations(ctx, mallory, "", 10); len(page.Conversations) != 0 {
		t.Fatalf("the other owner lists %v", ids(page.Conversations))
	}
	// The claim is visible without knowing the owner; deletion leaves the session claimed.
	for _, tc := range []struct {
		id   string
		want bool
	}{{id, true}, {session(), false}} {
		if got, err := p.SessionClaimed(ctx, tc.id); err != nil || got != tc.want {
			t.Fatalf("SessionClaimed(%s) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
	if err := d.DeleteConversation(ctx, alice, id); err != nil {
		t.Fatal(err)
	}
	if got, err := p.SessionClaimed(ctx, id); err != nil || !got {
		t.Fatalf("a deleted conversation's session: claimed = %v, %v; want true (tombstone)", got, err)
	}
}

func second[T any](_ T, err error) error { return err }

func testDirUpdate(t *testing.T, h *harness) {
	d, p := h.dir(t)
	own, now := owner(), baseTime()
	a, b := session(), session()
	mustCreate(t, h, d, own, a, "", now-2000)
	mustCreate(t, h, d, own, b, "", now-1000)
	title, on := "Trip to Lisbon ✈", true
	got, err := p.UpdateConversation(h.ctx(t), own, a, storage.ConversationUpdate{Title: &title, Active: now, AddMessages: 2, Running: &on})
	want := storage.Conversation{ID: a, Title: title, Created: now - 2000, LastActive: now, Messages: 2, Running: true}
	if err != nil || got != want {
		t.Fatalf("update = %+v, %v; want %+v", got, err, want)
	}
	// Active never moves backwards; the rest is unchanged by an empty update.
	got, err = d.UpdateConversation(h.ctx(t), own, a, storage.ConversationUpdate{Active: now - 5000})
	if err != nil || got != want {
		t.Fatalf("update backwards = %+v, %v; want %+v", got, err, want)
	}
	page, _ := d.ListConversations(h.ctx(t), own, "", 10)
	if fmt.Sprint(ids(page.Conversations)) != fmt.Sprint([]string{a, b}) {
		t.Fatalf("after activity the list is %v, want %s first", ids(page.Conversations), a)
	}
	bad := "tab\there"
	if _, err := d.UpdateConversation(h.ctx(t), own, a, storage.ConversationUpdate{Title: &bad}); !errors.Is(err, storage.ErrInvalidTitle) {
		t.Fatalf("invalid title: %v, want ErrInvalidTitle", err)
	}
	if got, _ := d.GetConversation(h.ctx(t), own, a); got != want {
		t.Fatalf("a refused update changed the entry to %+v", got)
	}
	if _, err := d.UpdateConversation(h.ctx(t), own, session(), storage.ConversationUpdate{AddMessages: 1}); !errors.Is(err, storage.ErrConversationNotFound) {
		t.Fatalf("update of an unknown id: %v", err)
	}
}

func testDirClear(t *testing.T, h *harness) {
	d, p := h.dir(t)
	own, now := owner(), baseTime()
	id := session()
	mustCreate(t, h, d, own, id, "t", now-1000)
	ctx := h.ctx(t)
	for i := 1; i <= 3; i++ {
		if _, err := h.store.Append(ctx, id, msg(fmt.Sprint("m", i), "x"), 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.store.StreamAppend(ctx, id, "stream-1", 1, "partial", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := d.UpdateConversation(ctx, own, id, storage.ConversationUpdate{AddMessages: 3, Running: &on}); err != nil {
		t.Fatal(err)
	}
	got, err := p.ClearConversation(ctx, own, id, now)
	want := storage.Conversation{ID: id, Title: "t", Created: now - 1000, LastActive: now}
	if err != nil || got != want {
		t.Fatalf("clear = %+v, %v; want %+v", got, err, want)
	}
	page, err := h.store.Read(ctx, id, 0)
	if err != nil || len(page.Records) != 0 || page.Head != 3 {
		t.Fatalf("after clear Read = %d records, head %d, %v; want none and head 3", len(page.Records), page.Head, err)
	}
	if _, ok, _ := h.store.Lookup(ctx, id, "m2"); ok {
		t.Fatal("a cleared message can still be looked up")
	}
	if st, err := h.store.StreamSnapshot(ctx, id); err != nil || len(st) != 0 {
		t.Fatalf("after clear running streams = %v, %v", st, err)
	}
	rec, err := h.store.Append(ctx, id, msg("m1", "again"), 100)
	if err != nil || rec.Seq != 4 {
		t.Fatalf("append after clear: seq %d, %v; want 4 (and the old id is free)", rec.Seq, err)
	}
	if got, _ := d.GetConversation(ctx, own, id); got != want {
		t.Fatalf("entry after clear %+v, want %+v", got, want)
	}
	// A message stored before the clear (a reply finishing meanwhile) does not count after
	// it; one stored after it does.
	if got, err := p.UpdateConversation(ctx, own, id, storage.ConversationUpdate{Active: now - 1, AddMessages: 1}); err != nil || got.Messages != 0 {
		t.Fatalf("a message from before the clear: %+v, %v; want 0 messages", got, err)
	}
	if got, err := p.UpdateConversation(ctx, own, id, storage.ConversationUpdate{Active: now + 1, AddMessages: 1}); err != nil || got.Messages != 1 {
		t.Fatalf("a message from after the clear: %+v, %v; want 1 message", got, err)
	}
}

func testDirDelete(t *testing.T, h *harness) {
	d, p := h.dir(t)
	own, other, now := owner(), owner(), baseTime()
	id, keep := session(), session()
	mustCreate(t, h, d, own, id, "", now-1000)
	mustCreate(t, h, d, own, keep, "", now-2000)
	ctx := h.ctx(t)
	if _, err := h.store.Append(ctx, id, msg("m1", "x"), 100); err != nil {
		t.Fatal(err)
	}
	if err := h.store.StreamAppend(ctx, id, "stream-1", 1, "partial", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteConversation(ctx, own, id); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetConversation(ctx, own, id); !errors.Is(err, storage.ErrConversationNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if page, _ := d.ListConversations(ctx, own, "", 10); fmt.Sprint(ids(page.Conversations)) != fmt.Sprint([]string{keep}) {
		t.Fatalf("list after delete = %v, want [%s]", ids(page.Conversations), keep)
	}
	if page, err := h.store.Read(ctx, id, 0); err != nil || len(page.Records) != 0 {
		t.Fatalf("history after delete: %d records, %v", len(page.Records), err)
	}
	if st, _ := h.store.StreamSnapshot(ctx, id); len(st) != 0 {
		t.Fatalf("streams after delete: %v", st)
	}
	if err := d.DeleteConversation(ctx, own, id); !errors.Is(err, storage.ErrConversationNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A deleted id is never claimed again, by anyone: a client reconnecting to it is
	// refused instead of bringing it back.
	for _, o := range []string{own, other} {
		if _, _, err := p.CreateConversation(ctx, o, storage.Conversation{ID: id, Created: now}, 0); !errors.Is(err, storage.ErrConversationNotFound) {
			t.Fatalf("claiming a deleted id as %s: %v, want ErrConversationNotFound", o, err)
		}
	}
}

func testDirBounded(t *testing.T, h *harness) {
	d, _ := h.dir(t)
	own, now := owner(), baseTime()
	ctx := h.ctx(t)
	for i := 0; i < 2; i++ {
		if _, _, err := d.CreateConversation(ctx, own, storage.Conversation{ID: session(), Created: now}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := d.CreateConversation(ctx, own, storage.Conversation{ID: session(), Created: now}, 2); !errors.Is(err, storage.ErrDirectoryFull) {
		t.Fatalf("third of max 2: %v, want ErrDirectoryFull", err)
	}
	if page, _ := d.ListConversations(ctx, own, "", 10); len(page.Conversations) != 2 {
		t.Fatalf("a refused create left %d entries", len(page.Conversations))
	}
	if _, _, err := d.CreateConversation(ctx, owner(), storage.Conversation{ID: session(), Created: now}, 2); err != nil {
		t.Fatalf("another owner is not bounded by this one: %v", err)
	}
}

func testDirEvents(t *testing.T, h *harness) {
	d, p := h.dir(t)
	own, other, now := owner(), owner(), baseTime()
	events := make(chan storage.DirectoryEvent, 16)
	cancel, err := p.SubscribeDirectory(h.ctx(t), own, func(ev storage.DirectoryEvent) {
		if !ev.Resync {
			events <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	leaked := make(chan storage.DirectoryEvent, 16)
	cancelOther, err := p.SubscribeDirectory(h.ctx(t), other, func(ev storage.DirectoryEvent) {
		if !ev.Resync {
			leaked <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancelOther()
	id := session()
	ctx := h.ctx(t)
	mustCreate(t, h, d, own, id, "", now)
	title, on, off := "named", true, false
	if _, err := d.UpdateConversation(ctx, own, id, storage.ConversationUpdate{Title: &title, Event: storage.ConversationRenamed}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateConversation(ctx, own, id, storage.ConversationUpdate{Active: now + 1, AddMessages: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateConversation(ctx, own, id, storage.ConversationUpdate{Running: &on, Event: storage.ConversationStarted}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateConversation(ctx, own, id, storage.ConversationUpdate{Running: &off, AddMessages: 1, Event: storage.ConversationEnded}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ClearConversation(ctx, own, id, now+2); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteConversation(ctx, own, id); err != nil {
		t.Fatal(err)
	}
	want := []storage.DirectoryEvent{
		{Kind: storage.ConversationCreated, Conversation: storage.Conversation{ID: id, Created: now, LastActive: now}},
		{Kind: storage.ConversationRenamed, Conversation: storage.Conversation{ID: id, Title: title, Created: now, LastActive: now}},
		{Kind: storage.ConversationActivity, Conversation: storage.Conversation{ID: id, Title: title, Created: now, LastActive: now + 1, Messages: 1}},
		{Kind: storage.ConversationStarted, Conversation: storage.Conversation{ID: id, Title: title, Created: now, LastActive: now + 1, Messages: 1, Running: true}},
		{Kind: storage.ConversationEnded, Conversation: storage.Conversation{ID: id, Title: title, Created: now, LastActive: now + 1, Messages: 2}},
		{Kind: storage.ConversationCleared, Conversation: storage.Conversation{ID: id, Title: title, Created: now, LastActive: now + 2}},
		{Kind: storage.ConversationDeleted, Conversation: storage.Conversation{ID: id}},
	}
	for i, w := range want {
		select {
		case got := <-events:
			if got != w {
				t.Fatalf("event %d = %+v, want %+v", i, got, w)
			}
		case <-time.After(h.wait):
			t.Fatalf("event %d (%s) not delivered", i, w.Kind)
		}
	}
	select {
	case ev := <-leaked:
		t.Fatalf("another owner's subscriber got %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

func testDirInvalid(t *testing.T, h *harness) {
	d, _ := h.dir(t)
	ctx := h.ctx(t)
	now := baseTime()
	if _, _, err := d.CreateConversation(ctx, owner(), storage.Conversation{ID: "bad id!", Created: now}, 0); !errors.Is(err, core.ErrInvalidSessionID) {
		t.Errorf("invalid id: %v, want ErrInvalidSessionID", err)
	}
	for _, bad := range []string{"", "tab\towner", string(make([]byte, storage.MaxOwnerLength+1))} {
		if _, _, err := d.CreateConversation(ctx, bad, storage.Conversation{ID: session(), Created: now}, 0); err == nil {
			t.Errorf("owner %q was accepted", bad)
		}
	}
	long := make([]byte, storage.MaxTitleLength+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, title := range []string{string(long), "a\x00b", "line\nbreak", "\u202eevil", "bad \xff utf8"} {
		if _, _, err := d.CreateConversation(ctx, owner(), storage.Conversation{ID: session(), Title: title, Created: now}, 0); !errors.Is(err, storage.ErrInvalidTitle) {
			t.Errorf("title %q: %v, want ErrInvalidTitle", title, err)
		}
	}
	if page, err := d.ListConversations(ctx, owner(), "not-a-cursor", math.MaxInt32); err != nil || len(page.Conversations) != 0 {
		t.Errorf("an invalid cursor: %v, %v", page, err)
	}
}
