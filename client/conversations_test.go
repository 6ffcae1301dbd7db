package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// backend makes the stores of two instances that share one backend.
type backend struct {
	name string
	pair func(t *testing.T) (a, b core.Store)
}

func backends() []backend {
	bs := []backend{
		{"memory", func(t *testing.T) (core.Store, core.Store) {
			s := core.NewMemoryStore(core.MemoryStoreOptions{})
			return s, s
		}},
		{"miniredis", func(t *testing.T) (core.Store, core.Store) {
			mr := miniredis.RunT(t)
			return redisPair(t, &redis.Options{Addr: mr.Addr()}, "cw:")
		}},
	}
	if url := os.Getenv("REDIS_URL"); url != "" {
		bs = append(bs, backend{"redis", func(t *testing.T) (core.Store, core.Store) {
			opts, err := redis.ParseURL(url)
			if err != nil {
				t.Fatalf("REDIS_URL: %v", err)
			}
			return redisPair(t, opts, "cwconv:"+core.NewID()+":")
		}})
	}
	return bs
}

// redisPair returns two Stores with their own clients on one Redis, as two processes have.
func redisPair(t *testing.T, opts *redis.Options, prefix string) (core.Store, core.Store) {
	mk := func() core.Store {
		rc := redis.NewClient(opts)
		s, err := redisstore.New(rc, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = s.Close()
			_ = rc.Close()
		})
		return s
	}
	return mk(), mk()
}

// instance is one chatwire server whose principal is the X-User header.
type instance struct {
	hub *core.Hub
	url string
}

func startInstance(t *testing.T, opts core.Options) *instance {
	t.Helper()
	opts.Conversations.Enabled = true
	hub := core.NewHub(opts)
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{
		Authenticate: func(r *http.Request) (any, error) {
			if u := r.Header.Get("X-User"); u != "" {
				return u, nil
			}
			return nil, nil
		},
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = hub.Shutdown(ctx)
	})
	return &instance{hub: hub, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/chat"}
}

// window is a client with every event it received, read on a goroutine it owns (so
// conversation calls are answered while the test waits elsewhere).
type window struct {
	t    *testing.T
	c    *client.Client
	mu   sync.Mutex
	evs  []client.Event
	more chan struct{}
	done chan struct{}
}

func openWindow(t *testing.T, in *instance, user, sessionID string) *window {
	t.Helper()
	h := http.Header{}
	if user != "" {
		h.Set("X-User", user)
	}
	// The Dial context is the client's lifetime; the window's cleanup closes it.
	c, err := client.Dial(context.Background(), in.url, client.Options{Header: h, SessionID: sessionID, Backoff: fastBackoff, History: true})
	if err != nil {
		t.Fatalf("dial as %q: %v", user, err)
	}
	w := &window{t: t, c: c, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() { // owned by the window: Close waits for it
		defer close(w.done)
		for ev := range c.Events() {
			w.mu.Lock()
			w.evs = append(w.evs, ev)
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(w.close)
	return w
}

func (w *window) close() {
	_ = w.c.Close()
	<-w.done
}

// wait returns the first event at or after index from that matches, and its index.
func (w *window) wait(what string, from int, match func(client.Event) bool) (client.Event, int) {
	w.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		for i := from; i < len(w.evs); i++ {
			if match(w.evs[i]) {
				ev := w.evs[i]
				w.mu.Unlock()
				return ev, i
			}
		}
		from = max(from, len(w.evs))
		w.mu.Unlock()
		select {
		case <-w.more:
		case <-w.done:
			w.t.Fatalf("window closed (%v) while waiting for %s", w.c.Err(), what)
		case <-deadline.C:
			w.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (w *window) events() []client.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]client.Event(nil), w.evs...)
}

func isConv(event, id string) func(client.Event) bool {
	return func(ev client.Event) bool {
		return ev.Kind == client.EventConversation && ev.Conversation.Event == event && (id == "" || ev.Conversation.Entry.ID == id)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func forEachBackend(t *testing.T, run func(t *testing.T, a, b core.Store)) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			a, b := be.pair(t)
			run(t, a, b)
		})
	}
}

// A rename on instance A reaches a second window of the owner on instance B; the handler
// titles an untitled conversation from its first message; the list arrives on connect.
func TestConversationRenameAcrossInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		titler := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			conv, err := w.Conversation(ctx)
			if err != nil {
				return err
			}
			if conv.Title == "" {
				return w.SetTitle(ctx, "About: "+req.Message.Content)
			}
			return nil
		})
		a := startInstance(t, core.Options{Store: sa, Handler: titler})
		b := startInstance(t, core.Options{Store: sb, Handler: titler})
		w1 := openWindow(t, a, "alice", "")
		sid := w1.c.SessionID()
		_, i := w1.wait("the opened frame on connect", 0, isConv("opened", sid))
		w2 := openWindow(t, b, "alice", "")
		list, _ := w2.wait("the list on connect", 0, isConv("list", ""))
		found := false
		for _, c := range list.Conversation.List {
			found = found || c.ID == sid
		}
		if !found {
			t.Fatalf("B's list %+v lacks A's conversation %s", list.Conversation.List, sid)
		}
		if _, err := w1.c.RenameConversation(ctxT(t), sid, "  Lisbon trip  "); err != nil {
			t.Fatal(err)
		}
		ev, _ := w2.wait("the rename on B", 0, isConv("renamed", sid))
		if ev.Conversation.Entry.Title != "Lisbon trip" {
			t.Fatalf("renamed to %q, want the trimmed title", ev.Conversation.Entry.Title)
		}
		// The handler titles w2's untitled conversation from its first message.
		sid2 := w2.c.SessionID()
		if _, err := w2.c.SendText(ctxT(t), "lunch"); err != nil {
			t.Fatal(err)
		}
		ev, _ = w1.wait("the handler's title on A", i, func(ev client.Event) bool {
			return isConv("renamed", sid2)(ev) && ev.Conversation.Entry.Title == "About: lunch"
		})
		if ev.Conversation.Entry.Messages != 1 {
			t.Fatalf("entry after one message: %+v", ev.Conversation.Entry)
		}
		page, err := w1.c.Conversations(ctxT(t), "")
		if err != nil || len(page.Conversations) != 2 || page.Conversations[0].ID != sid2 {
			t.Fatalf("list = %+v, %v; want two, the active one (%s) first", page, err, sid2)
		}
	})
}

// A connection switching between two conversations while both receive messages from other
// instances loses nothing and misdelivers nothing: before the switch it sees a gap-free
// prefix of X's messages, after it every Y message exactly once (the history, then live).
func TestConversationSwitchUnderTraffic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		a := startInstance(t, core.Options{Store: sa})
		b := startInstance(t, core.Options{Store: sb})
		wx := openWindow(t, a, "alice", "")
		wy := openWindow(t, b, "alice", "")
		x, y := wx.c.SessionID(), wy.c.SessionID()
		sw := openWindow(t, a, "alice", x)
		sw.wait("the switcher's opened frame", 0, isConv("opened", x))

		const n = 60
		var wg sync.WaitGroup
		send := func(w *window, prefix string) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				if _, err := w.c.SendText(ctxT(t), fmt.Sprintf("%s-%03d", prefix, i)); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		wg.Add(2)
		go send(wx, "x")
		go send(wy, "y")
		sw.wait("some traffic in x", 0, func(ev client.Event) bool {
			return ev.Kind == client.EventMessage && strings.HasPrefix(ev.Message.Content, "x-")
		})
		conv, err := sw.c.OpenConversation(ctxT(t), y)
		if err != nil || conv.ID != y {
			t.Fatalf("open %s: %+v %v", y, conv, err)
		}
		wg.Wait()
		sw.wait("the last y message", 0, func(ev client.Event) bool {
			return ev.Kind == client.EventMessage && ev.Message.Content == fmt.Sprintf("y-%03d", n-1)
		})
		if got := sw.c.SessionID(); got != y {
			t.Fatalf("after the switch the client's session is %s, want %s", got, y)
		}
		var before, after []string
		switched := false
		for _, ev := range sw.events() {
			if isConv("opened", y)(ev) {
				switched = true
				continue
			}
			if ev.Kind != client.EventMessage || ev.Message.Type != core.TypeMessage {
				continue
			}
			if switched {
				after = append(after, ev.Message.Content)
			} else {
				before = append(before, ev.Message.Content)
			}
		}
		for i, c := range before {
			if c != fmt.Sprintf("x-%03d", i) {
				t.Fatalf("before the switch message %d is %q: want x's messages in order without a gap (%v)", i, c, before)
			}
		}
		if len(after) != n {
			t.Fatalf("after the switch %d messages, want the %d of y exactly once: %v", len(after), n, after)
		}
		for i, c := range after {
			if c != fmt.Sprintf("y-%03d", i) {
				t.Fatalf("after the switch message %d is %q, want y-%03d (%v)", i, c, i, after)
			}
		}
		// Messages sent after the switch go to y.
		m, err := sw.c.SendText(ctxT(t), "from the switcher")
		if err != nil {
			t.Fatal(err)
		}
		wy.wait("the switcher's message in y", 0, func(ev client.Event) bool { return ev.Message.ID == m.ID })
	})
}

// Deleting a conversation on B while its reply streams on A cancels the reply, tells every
// window, removes the history, and refuses further messages to it.
func TestConversationDeleteDuringStream(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		g := newGated()
		a := startInstance(t, core.Options{Store: sa, Handler: g})
		b := startInstance(t, core.Options{Store: sb})
		w1 := openWindow(t, a, "alice", "")
		sid := w1.c.SessionID()
		w2 := openWindow(t, b, "alice", sid)
		other := openWindow(t, b, "alice", "")
		if _, err := w1.c.SendText(ctxT(t), "tell me a story"); err != nil {
			t.Fatal(err)
		}
		g.feed(t, "once ", "upon ")
		w2.wait("the stream on B", 0, func(ev client.Event) bool {
			return ev.Kind == client.EventStream && ev.Stream.Text == "once upon "
		})
		other.wait("the running flag on the sidebar", 0, func(ev client.Event) bool {
			return isConv("started", sid)(ev) && ev.Conversation.Entry.Running
		})
		if err := w2.c.DeleteConversation(ctxT(t), sid); err != nil {
			t.Fatal(err)
		}
		select {
		case cause := <-g.cancelled:
			if !errors.Is(cause, core.ErrStreamCancelled) {
				t.Fatalf("the reply ended with %v, want ErrStreamCancelled", cause)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the reply was not cancelled")
		}
		for _, w := range []*window{w1, w2, other} {
			w.wait("the deletion", 0, isConv("deleted", sid))
		}
		page, err := sa.Read(ctxT(t), sid, 0)
		if err != nil || len(page.Records) != 0 {
			t.Fatalf("history after delete: %d records, %v", len(page.Records), err)
		}
		lst, err := other.c.Conversations(ctxT(t), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range lst.Conversations {
			if c.ID == sid {
				t.Fatalf("the deleted conversation is still listed: %+v", c)
			}
		}
		n := len(w1.events())
		if _, err := w1.c.SendText(ctxT(t), "anyone?"); err != nil {
			t.Fatal(err)
		}
		ev, _ := w1.wait("the refusal", n, func(ev client.Event) bool { return ev.Kind == client.EventError })
		var se *client.ServerError
		if !errors.As(ev.Err, &se) || se.Code != string(core.CodeSessionNotFound) {
			t.Fatalf("sending to a deleted conversation: %v", ev.Err)
		}
		// A reconnect to the deleted id does not bring it back.
		_, err = client.Dial(ctxT(t), b.url, client.Options{Header: http.Header{"X-User": {"alice"}}, SessionID: sid})
		var he *client.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
			t.Fatalf("connecting to a deleted conversation: %v, want 404", err)
		}
	})
}

// Only the owner lists, opens, renames, clears or deletes its conversations; an unknown id
// and another owner's id get the same answer, and nothing changes on refusal.
func TestConversationAuthorization(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		denied := "sid-denied-by-authorizer"
		authorize := func(ctx context.Context, principal any, sessionID string) error {
			if sessionID == denied {
				return errors.New("no")
			}
			return nil
		}
		a := startInstance(t, core.Options{Store: sa, Conversations: core.ConversationOptions{Authorize: authorize}})
		b := startInstance(t, core.Options{Store: sb, Conversations: core.ConversationOptions{Authorize: authorize, MaxPerOwner: 3}})
		alice := openWindow(t, a, "alice", "")
		sid := alice.c.SessionID()
		if _, err := alice.c.RenameConversation(ctxT(t), sid, "secret plans"); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.c.SendText(ctxT(t), "the plan"); err != nil {
			t.Fatal(err)
		}
		alice.wait("the stored message", 0, func(ev client.Event) bool { return ev.Message.Content == "the plan" })
		mallory := openWindow(t, b, "mallory", "")

		refusal := func(what string, err error) string {
			t.Helper()
			var se *client.ServerError
			if !errors.As(err, &se) {
				t.Fatalf("%s: %v, want a server refusal", what, err)
			}
			return se.Code + ": " + se.Message
		}
		for _, id := range []string{sid, core.NewID(), "bad id!"} {
			var answers []string
			_, err := mallory.c.OpenConversation(ctxT(t), id)
			answers = append(answers, refusal("open", err))
			_, err = mallory.c.RenameConversation(ctxT(t), id, "mine now")
			answers = append(answers, refusal("rename", err))
			answers = append(answers, refusal("clear", mallory.c.ClearConversation(ctxT(t), id)))
			answers = append(answers, refusal("delete", mallory.c.DeleteConversation(ctxT(t), id)))
			for _, ans := range answers {
				if ans != "SESSION_NOT_FOUND: Conversation not found" {
					t.Fatalf("refusal for %q: %q, want the same answer for every id", id, ans)
				}
			}
		}
		page, err := mallory.c.Conversations(ctxT(t), "")
		if err != nil || len(page.Conversations) != 1 || page.Conversations[0].ID == sid {
			t.Fatalf("mallory lists %+v, %v; want only her own", page, err)
		}
		entry, err := sa.(storage.DirectoryStore).GetConversation(ctxT(t), "alice", sid)
		if err != nil || entry.Title != "secret plans" || entry.Messages != 1 {
			t.Fatalf("alice's entry after refusals: %+v, %v", entry, err)
		}
		// Connecting to alice's conversation as mallory is refused like the middleware does.
		_, err = client.Dial(ctxT(t), b.url, client.Options{Header: http.Header{"X-User": {"mallory"}}, SessionID: sid})
		var he *client.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
			t.Fatalf("mallory connecting to alice's session: %v, want 404", err)
		}
		// The session authorizer is asked before a switch.
		den := openWindow(t, b, "mallory", denied)
		if _, err := den.c.OpenConversation(ctxT(t), denied); refusal("authorizer", err) != "SESSION_NOT_FOUND: Conversation not found" {
			t.Fatal("the authorizer's refusal differs")
		}
		// Titles are bounded and validated.
		for _, title := range []string{strings.Repeat("a", storage.MaxTitleLength+1), "a\x00b", "two\nlines", "\u202eevil"} {
			if _, err := alice.c.RenameConversation(ctxT(t), sid, title); refusal("bad title", err) != "INVALID_TITLE: Invalid title" {
				t.Fatalf("title %q accepted", title)
			}
		}
		// The directory is bounded per owner (MaxPerOwner 3 on b).
		for {
			_, err := mallory.c.NewConversation(ctxT(t), "")
			if err != nil {
				if refusal("create", err) != "CONVERSATION_LIMIT: Too many conversations; delete some first" {
					t.Fatalf("over the limit: %v", err)
				}
				break
			}
			if p, _ := mallory.c.Conversations(ctxT(t), ""); len(p.Conversations) > 3 {
				t.Fatalf("mallory has %d conversations, over the limit of 3", len(p.Conversations))
			}
		}
		// A connection without an owner has no directory, and may not join an owned session.
		_, err = client.Dial(ctxT(t), a.url, client.Options{SessionID: sid})
		if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
			t.Fatalf("an anonymous connection to alice's session: %v, want 404", err)
		}
		anon := openWindow(t, a, "", "")
		if _, err := anon.c.Conversations(ctxT(t), ""); refusal("anonymous list", err) != "CONVERSATIONS_UNAVAILABLE: Conversations are not available on this connection" {
			t.Fatal("an anonymous connection listed conversations")
		}
	})
}

// Directory calls go through the guards (rate limits) like messages.
func TestConversationCallsAreRateLimited(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	limit := func(ctx context.Context, req *core.Request) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 2 {
			return core.NewError(core.CodeRateLimited, "slow down")
		}
		return nil
	}
	in := startInstance(t, core.Options{Store: core.NewMemoryStore(core.MemoryStoreOptions{}), Guards: []core.Guard{limit}})
	w := openWindow(t, in, "alice", "")
	for i := 0; i < 2; i++ {
		if _, err := w.c.Conversations(ctxT(t), ""); err != nil {
			t.Fatal(err)
		}
	}
	_, err := w.c.NewConversation(ctxT(t), "x")
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != string(core.CodeRateLimited) {
		t.Fatalf("third call: %v, want RATE_LIMITED", err)
	}
	page, _ := w.c.Conversations(ctxT(t), "")
	_ = page
	mu.Lock()
	defer mu.Unlock()
	if calls != 4 {
		t.Fatalf("the guard saw %d calls, want 4", calls)
	}
}

// A conversation marked running whose producer died before saying the reply ended is
// corrected when listed: running false, and every window is told.
func TestConversationStaleRunningFlagIsCorrected(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		a := startInstance(t, core.Options{Store: sa})
		w := openWindow(t, a, "alice", "")
		sid := w.c.SessionID()
		on := true
		if _, err := sa.(storage.DirectoryStore).UpdateConversation(ctxT(t), "alice", sid, storage.ConversationUpdate{Running: &on, Event: storage.ConversationStarted}); err != nil {
			t.Fatal(err)
		}
		w.wait("the running flag", 0, func(ev client.Event) bool { return isConv("started", sid)(ev) && ev.Conversation.Entry.Running })
		page, err := w.c.Conversations(ctxT(t), "")
		if err != nil || len(page.Conversations) != 1 || page.Conversations[0].Running {
			t.Fatalf("list = %+v, %v; want the stale flag corrected", page, err)
		}
		w.wait("the correction", 0, func(ev client.Event) bool { return isConv("ended", sid)(ev) && !ev.Conversation.Entry.Running })
	})
}

// A reply keeps running after its window switched to another conversation; a window on
// another instance can still stop it.
func TestConversationCancelAfterProducerSwitchedAway(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		g := newGated()
		a := startInstance(t, core.Options{Store: sa, Handler: g})
		b := startInstance(t, core.Options{Store: sb})
		w1 := openWindow(t, a, "alice", "")
		x := w1.c.SessionID()
		w2 := openWindow(t, b, "alice", x)
		if _, err := w1.c.SendText(ctxT(t), "long story"); err != nil {
			t.Fatal(err)
		}
		g.feed(t, "once ")
		ev, _ := w2.wait("the stream on B", 0, func(ev client.Event) bool { return ev.Kind == client.EventStream && ev.Stream.Text == "once " })
		if _, err := w1.c.NewConversation(ctxT(t), "elsewhere"); err != nil {
			t.Fatal(err)
		}
		g.feed(t, "upon ")
		w2.wait("the stream going on", 0, func(ev client.Event) bool { return ev.Kind == client.EventStream && ev.Stream.Text == "once upon " })
		if err := w2.c.CancelStream(ctxT(t), ev.Stream.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case cause := <-g.cancelled:
			if !errors.Is(cause, core.ErrStreamCancelled) {
				t.Fatalf("ended with %v", cause)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the cancel from B did not reach the producer on A after its window switched away")
		}
		w2.wait("the cancelled end", 0, func(ev client.Event) bool {
			return ev.Kind == client.EventStreamEnd && ev.Stream.State == core.StreamStateCancelled
		})
	})
}

// Clearing a conversation while its reply streams cancels the reply, empties the history,
// keeps the conversation (count 0, not running) and tells every window.
func TestConversationClearDuringStream(t *testing.T) {
	forEachBackend(t, func(t *testing.T, sa, sb core.Store) {
		g := newGated()
		a := startInstance(t, core.Options{Store: sa, Handler: g})
		b := startInstance(t, core.Options{Store: sb})
		w1 := openWindow(t, a, "alice", "")
		sid := w1.c.SessionID()
		w2 := openWindow(t, b, "alice", sid)
		if _, err := w1.c.SendText(ctxT(t), "go on and on"); err != nil {
			t.Fatal(err)
		}
		g.feed(t, "and ")
		w2.wait("the stream on B", 0, func(ev client.Event) bool { return ev.Kind == client.EventStream && ev.Stream.Text == "and " })
		if err := w2.c.ClearConversation(ctxT(t), sid); err != nil {
			t.Fatal(err)
		}
		select {
		case cause := <-g.cancelled:
			if !errors.Is(cause, core.ErrStreamCancelled) {
				t.Fatalf("ended with %v", cause)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the reply was not cancelled")
		}
		for _, w := range []*window{w1, w2} {
			w.wait("the clear", 0, isConv("cleared", sid))
		}
		page, err := w1.c.Conversations(ctxT(t), "")
		if err != nil || len(page.Conversations) != 1 {
			t.Fatalf("list = %+v, %v", page, err)
		}
		if c := page.Conversations[0]; c.ID != sid || c.Messages != 0 || c.Running {
			t.Fatalf("entry after clear: %+v", c)
		}
		// The conversation goes on: a new message is stored and delivered after the clear.
		m, err := w1.c.SendText(ctxT(t), "again")
		if err != nil {
			t.Fatal(err)
		}
		w2.wait("the new message on B", 0, func(ev client.Event) bool { return ev.Message.ID == m.ID })
		close(g.gate) // the handler answering it streams nothing and ends
	})
}

// After the store's notifications may have been lost (Redis restarted), every connection
// of the owner gets the list again.
func TestConversationListAfterRedisRestart(t *testing.T) {
	mr := miniredis.RunT(t)
	sa, _ := redisPair(t, &redis.Options{Addr: mr.Addr()}, "cw:")
	a := startInstance(t, core.Options{Store: sa})
	w := openWindow(t, a, "alice", "")
	_, first := w.wait("the list on connect", 0, isConv("list", ""))
	mr.Close()
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	ev, _ := w.wait("the list after the restart", first+1, func(ev client.Event) bool {
		return isConv("list", "")(ev) && ev.Conversation.Ref == ""
	})
	if len(ev.Conversation.List) != 1 || ev.Conversation.List[0].ID != w.c.SessionID() {
		t.Fatalf("list after the restart: %+v", ev.Conversation.List)
	}
}

// An unknown conversation action is refused with INVALID_MESSAGE and is neither stored nor
// handled.
func TestConversationUnknownAction(t *testing.T) {
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	handled := make(chan struct{}, 1)
	in := startInstance(t, core.Options{Store: store, Handler: core.HandlerFunc(func(context.Context, *core.Request, *core.ReplyWriter) error {
		handled <- struct{}{}
		return nil
	})})
	w := openWindow(t, in, "alice", "")
	bogus := core.Message{ID: core.NewID(), Type: core.TypeSystem, Content: "x", Metadata: []byte(`{"conversation":{"action":"explode"}}`)}
	if err := w.c.Send(ctxT(t), bogus); err != nil {
		t.Fatal(err)
	}
	ev, _ := w.wait("the refusal", 0, func(ev client.Event) bool { return ev.Kind == client.EventError })
	var se *client.ServerError
	if !errors.As(ev.Err, &se) || se.Code != string(core.CodeInvalidMessage) || se.Message != "Unknown conversation action" {
		t.Fatalf("refusal: %v", ev.Err)
	}
	page, err := store.Read(ctxT(t), w.c.SessionID(), 0)
	if err != nil || len(page.Records) != 0 {
		t.Fatalf("the call was stored: %d records, %v", len(page.Records), err)
	}
	select {
	case <-handled:
		t.Fatal("the call reached the handler")
	default:
	}
}
