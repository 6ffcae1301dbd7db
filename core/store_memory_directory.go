package core

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatwire/chatwire/storage"
)

// memDirectory is the MemoryStore's conversation directory (storage.DirectoryStore). Its zero value
// is ready to use. Its lock is never held while a session's lock is taken.
type memDirectory struct {
	mu        sync.Mutex
	owners    map[string]*memOwner
	claims    map[string]string    // session id -> owner
	tombs     map[string]time.Time // deleted session id -> when: never claimed again (TTL)
	lastSweep time.Time            // see sweepDirLocked
}

type memOwner struct {
	convs   map[string]*Conversation
	cleared map[string]int64 // conversation id -> when it was last cleared (ms)
	subs    map[*memDirSub]struct{}
}

type memDirSub struct {
	fn func(storage.DirectoryEvent)
}

var _ storage.DirectoryStore = (*MemoryStore)(nil)

func memDirCheck(ctx context.Context, op, owner, id string) error {
	if !storage.ValidOwner(owner) {
		return fmt.Errorf("memory store: %s: invalid owner", op)
	}
	if id != "" && !ValidSessionID(id) {
		return fmt.Errorf("memory store: %s: %q: %w", op, id, ErrInvalidSessionID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory store: %s: %w", op, err)
	}
	return nil
}

// ownerLocked returns owner's directory, creating it when create is set, after dropping the
// entries that expired. d.mu must be held.
func (s *MemoryStore) ownerLocked(owner string, create bool) *memOwner {
	d := &s.dir
	o := d.owners[owner]
	if o == nil {
		if !create {
			return nil
		}
		if d.owners == nil {
			d.owners = make(map[string]*memOwner)
			d.claims = make(map[string]string)
		}
		o = &memOwner{convs: make(map[string]*Conversation)}
		d.owners[owner] = o
	}
	if s.ttl > 0 {
		cutoff := s.now().Add(-s.ttl).UnixMilli()
		for id, c := range o.convs {
			if c.LastActive <= cutoff {
				delete(o.convs, id)
				delete(o.cleared, id)
				if d.claims[id] == owner {
					delete(d.claims, id)
				}
			}
		}
	}
	return o
}

// sweepDirLocked drops the expired entries of every owner (and owners left with none and
// no subscriber), at most once per half TTL, so owners who never come back do not hold
// memory. The directory's lock must be held.
func (s *MemoryStore) sweepDirLocked() {
	if s.ttl <= 0 {
		return
	}
	now := s.now()
	if now.Sub(s.dir.lastSweep) < s.ttl/2 {
		return
	}
	s.dir.lastSweep = now
	for id := range s.dir.tombs {
		s.tombstonedLocked(id) // drops expired tombstones
	}
	for owner, o := range s.dir.owners {
		s.ownerLocked(owner, false)
		if len(o.convs) == 0 && len(o.subs) == 0 {
			delete(s.dir.owners, owner)
		}
	}
}

// tombstonedLocked reports whether id was deleted less than a TTL ago (forever without a
// TTL), forgetting an expired tombstone. The directory's lock must be held.
func (s *MemoryStore) tombstonedLocked(id string) bool {
	at, ok := s.dir.tombs[id]
	if !ok {
		return false
	}
	if s.ttl > 0 && s.now().Sub(at) >= s.ttl {
		delete(s.dir.tombs, id)
		return false
	}
	return true
}

// CreateConversation implements storage.DirectoryStore.
func (s *MemoryStore) CreateConversation(ctx context.Context, owner string, conv Conversation, max int) (Conversation, bool, error) {
	if err := memDirCheck(ctx, "create conversation", owner, conv.ID); err != nil {
		return Conversation{}, false, err
	}
	if conv.ID == "" {
		return Conversation{}, false, fmt.Errorf("memory store: create conversation: %w", ErrInvalidSessionID)
	}
	if !storage.ValidTitle(conv.Title) {
		return Conversation{}, false, fmt.Errorf("memory store: create conversation: %w", ErrInvalidTitle)
	}
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	s.sweepDirLocked()
	o := s.ownerLocked(owner, true)
	if c := o.convs[conv.ID]; c != nil {
		return *c, false, nil
	}
	if other, ok := s.dir.claims[conv.ID]; (ok && other != owner) || s.tombstonedLocked(conv.ID) {
		return Conversation{}, false, fmt.Errorf("memory store: create conversation: %w", ErrConversationNotFound)
	}
	if max > 0 && len(o.convs) >= max {
		return Conversation{}, false, fmt.Errorf("memory store: create conversation: %w", storage.ErrDirectoryFull)
	}
	c := Conversation{ID: conv.ID, Title: conv.Title, Created: conv.Created, LastActive: conv.Created}
	o.convs[c.ID] = &c
	s.dir.claims[c.ID] = owner
	o.publishLocked(storage.DirectoryEvent{Kind: storage.ConversationCreated, Conversation: c})
	return c, true, nil
}

// publishLocked calls every directory subscriber of o with ev. The directory's lock must
// be held.
func (o *memOwner) publishLocked(ev storage.DirectoryEvent) {
	for sub := range o.subs {
		sub.fn(ev)
	}
}

// SessionClaimed implements storage.DirectoryStore.
func (s *MemoryStore) SessionClaimed(ctx context.Context, sessionID string) (bool, error) {
	if err := memCheckCall(ctx, "session claimed", sessionID); err != nil {
		return false, err
	}
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	if owner, ok := s.dir.claims[sessionID]; ok {
		s.ownerLocked(owner, false) // drops the claim if its entry expired
		if _, ok := s.dir.claims[sessionID]; ok {
			return true, nil
		}
	}
	return s.tombstonedLocked(sessionID), nil
}

// GetConversation implements storage.DirectoryStore.
func (s *MemoryStore) GetConversation(ctx context.Context, owner, id string) (Conversation, error) {
	if err := memDirCheck(ctx, "get conversation", owner, id); err != nil {
		return Conversation{}, err
	}
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	if o := s.ownerLocked(owner, false); o != nil {
		if c := o.convs[id]; c != nil {
			return *c, nil
		}
	}
	return Conversation{}, fmt.Errorf("memory store: get conversation: %w", ErrConversationNotFound)
}

// ListConversations implements storage.DirectoryStore.
func (s *MemoryStore) ListConversations(ctx context.Context, owner, cursor string, limit int) (storage.ConversationPage, error) {
	if err := memDirCheck(ctx, "list conversations", owner, ""); err != nil {
		return storage.ConversationPage{}, err
	}
	if limit <= 0 {
		limit = DefaultConversationPage
	}
	s.dir.mu.Lock()
	o := s.ownerLocked(owner, false)
	var all []Conversation
	if o != nil {
		all = make([]Conversation, 0, len(o.convs))
		for _, c := range o.convs {
			all = append(all, *c)
		}
	}
	s.dir.mu.Unlock()
	slices.SortFunc(all, compareNewest)
	if at, id, ok := parseDirCursor(cursor); ok {
		i, _ := slices.BinarySearchFunc(all, Conversation{ID: id, LastActive: at}, compareNewest)
		if i < len(all) && all[i].ID == id && all[i].LastActive == at {
			i++
		}
		all = all[i:]
	}
	var page storage.ConversationPage
	if len(all) > limit {
		last := all[limit-1]
		page.Next = dirCursor(last.LastActive, last.ID)
		all = all[:limit]
	}
	page.Conversations = all
	return page, nil
}

// compareNewest orders conversations by LastActive, newest first, then by id, descending.
func compareNewest(a, b Conversation) int {
	if c := cmp.Compare(b.LastActive, a.LastActive); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// dirCursor is the cursor after (lastActive, id): "<lastActive>:<id>".
func dirCursor(lastActive int64, id string) string {
	return strconv.FormatInt(lastActive, 10) + ":" + id
}

func parseDirCursor(cursor string) (int64, string, bool) {
	at, id, ok := strings.Cut(cursor, ":")
	if !ok || !ValidSessionID(id) {
		return 0, "", false
	}
	n, err := strconv.ParseInt(at, 10, 64)
	return n, id, err == nil
}

// UpdateConversation implements storage.DirectoryStore.
func (s *MemoryStore) UpdateConversation(ctx context.Context, owner, id string, u storage.ConversationUpdate) (Conversation, error) {
	if err := memDirCheck(ctx, "update conversation", owner, id); err != nil {
		return Conversation{}, err
	}
	if u.Title != nil && !storage.ValidTitle(*u.Title) {
		return Conversation{}, fmt.Errorf("memory store: update conversation: %w", ErrInvalidTitle)
	}
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	o := s.ownerLocked(owner, false)
	if o == nil || o.convs[id] == nil {
		return Conversation{}, fmt.Errorf("memory store: update conversation: %w", ErrConversationNotFound)
	}
	c := o.convs[id]
	if u.AddMessages != 0 && u.Active < o.cleared[id] {
		u.AddMessages = 0 // stored before the last clear
	}
	applyUpdate(c, u)
	kind := u.Event
	if kind == "" {
		kind = storage.ConversationActivity
	}
	o.publishLocked(storage.DirectoryEvent{Kind: kind, Conversation: *c})
	return *c, nil
}

// applyUpdate applies u to c.
func applyUpdate(c *Conversation, u storage.ConversationUpdate) {
	if u.Title != nil {
		c.Title = *u.Title
	}
	if u.Active > c.LastActive {
		c.LastActive = u.Active
	}
	c.Messages += u.AddMessages
	if u.Running != nil {
		c.Running = *u.Running
	}
}

// ClearConversation implements storage.DirectoryStore.
func (s *MemoryStore) ClearConversation(ctx context.Context, owner, id string, now int64) (Conversation, error) {
	if err := memDirCheck(ctx, "clear conversation", owner, id); err != nil {
		return Conversation{}, err
	}
	if _, err := s.GetConversation(ctx, owner, id); err != nil {
		return Conversation{}, err
	}
	s.clearSession(id)
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	o := s.ownerLocked(owner, false)
	if o == nil || o.convs[id] == nil {
		return Conversation{}, fmt.Errorf("memory store: clear conversation: %w", ErrConversationNotFound)
	}
	c := o.convs[id]
	c.Messages, c.Running = 0, false
	c.LastActive = max(c.LastActive, now)
	if o.cleared == nil {
		o.cleared = make(map[string]int64)
	}
	o.cleared[id] = now
	o.publishLocked(storage.DirectoryEvent{Kind: storage.ConversationCleared, Conversation: *c})
	return *c, nil
}

// DeleteConversation implements storage.DirectoryStore.
func (s *MemoryStore) DeleteConversation(ctx context.Context, owner, id string) error {
	if err := memDirCheck(ctx, "delete conversation", owner, id); err != nil {
		return err
	}
	s.dir.mu.Lock()
	o := s.ownerLocked(owner, false)
	if o == nil || o.convs[id] == nil {
		s.dir.mu.Unlock()
		return fmt.Errorf("memory store: delete conversation: %w", ErrConversationNotFound)
	}
	delete(o.convs, id)
	delete(o.cleared, id)
	delete(s.dir.claims, id)
	if s.dir.tombs == nil {
		s.dir.tombs = make(map[string]time.Time)
	}
	s.dir.tombs[id] = s.now()
	o.publishLocked(storage.DirectoryEvent{Kind: storage.ConversationDeleted, Conversation: Conversation{ID: id}})
	s.dir.mu.Unlock()
	s.clearSession(id)
	return nil
}

// clearSession drops the session's retained records and running streams; its sequence
// numbers go on from where they were.
func (s *MemoryStore) clearSession(id string) {
	sess := s.lock(id, false)
	if sess == nil {
		return
	}
	defer sess.mu.Unlock()
	s.clearHistoryLocked(sess)
	sess.streams = nil
}

// SubscribeDirectory implements storage.DirectoryStore. fn is called with the directory's lock
// held; it never receives a Resync event.
func (s *MemoryStore) SubscribeDirectory(ctx context.Context, owner string, fn func(storage.DirectoryEvent)) (func(), error) {
	if err := memDirCheck(ctx, "subscribe directory", owner, ""); err != nil {
		return nil, err
	}
	sub := &memDirSub{fn: fn}
	s.dir.mu.Lock()
	o := s.ownerLocked(owner, true)
	if o.subs == nil {
		o.subs = make(map[*memDirSub]struct{})
	}
	o.subs[sub] = struct{}{}
	s.dir.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.dir.mu.Lock()
			delete(o.subs, sub)
			if len(o.subs) == 0 && len(o.convs) == 0 && s.dir.owners[owner] == o {
				delete(s.dir.owners, owner)
			}
			s.dir.mu.Unlock()
		})
	}, nil
}
