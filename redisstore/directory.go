package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

var _ storage.DirectoryStore = (*Store)(nil)

// dirEventPrefix is the payload of an ephemeral message with empty content: the scripts
// publish it followed by the event's text, which subscribers read as the message's content
// (see directoryEvent).
var dirEventPrefix = ephemeralPayload(core.Message{})

// dirKeys are the Redis names of one owner's directory (see directory_script.go).
type dirKeys struct {
	z, h, channel string
}

func (r *resolved) dirKeysFor(owner string) dirKeys {
	sum := sha256.Sum256([]byte(owner))
	tag := hex.EncodeToString(sum[:16])
	base := r.prefix + "dir:{" + tag + "}:"
	return dirKeys{z: base + "z", h: base + "e", channel: base + "live"}
}

// claimKey is the key naming the owner of a session.
func (r *resolved) claimKey(sessionID string) string { return r.keysFor(sessionID).base + "owner" }

// cutoff is the last-activity time (ms) at or before which entries have expired; 0 when
// sessions never expire.
func (r *resolved) cutoff() int64 {
	if r.ttl <= 0 {
		return 0
	}
	return time.Now().UnixMilli() - r.ttl.Milliseconds()
}

func dirCheck(ctx context.Context, op, owner, id string) error {
	if !storage.ValidOwner(owner) {
		return fmt.Errorf("redisstore: %s: invalid owner", op)
	}
	if id != "" {
		return check(ctx, op, id)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return nil
}

func notFound(op string) error {
	return fmt.Errorf("redisstore: %s: %w", op, storage.ErrConversationNotFound)
}

// parseDirEntry decodes an entry "<created>|<lastActive>|<messages>|<running>|<cleared>|<title>".
func parseDirEntry(id, s string) (storage.Conversation, error) {
	parts := strings.SplitN(s, "|", 6)
	if len(parts) != 6 {
		return storage.Conversation{}, fmt.Errorf("%w: directory entry", errBadReply)
	}
	c := storage.Conversation{ID: id, Title: parts[5], Running: parts[3] == "1"}
	var err1, err2, err3 error
	c.Created, err1 = strconv.ParseInt(parts[0], 10, 64)
	c.LastActive, err2 = strconv.ParseInt(parts[1], 10, 64)
	c.Messages, err3 = strconv.ParseInt(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return storage.Conversation{}, fmt.Errorf("%w: directory entry: %w", errBadReply, err)
	}
	return c, nil
}

// CreateConversation implements storage.DirectoryStore: it claims the session (in the
// session's slot), then adds the entry (in the owner's slot). A refused create releases a
// claim it made.
func (s *Store) CreateConversation(ctx context.Context, owner string, conv storage.Conversation, max int) (storage.Conversation, bool, error) {
	const op = "create conversation"
	if err := dirCheck(ctx, op, owner, conv.ID); err != nil {
		return storage.Conversation{}, false, err
	}
	if !storage.ValidTitle(conv.Title) {
		return storage.Conversation{}, false, fmt.Errorf("redisstore: %s: %w", op, storage.ErrInvalidTitle)
	}
	claim := s.opts.claimKey(conv.ID)
	claimed, err := s.eval(ctx, claimScript, []string{claim}, owner, s.opts.ttlMillis()).Int()
	if err != nil {
		return storage.Conversation{}, false, fail(ctx, op, conv.ID, err)
	}
	if claimed == 0 {
		return storage.Conversation{}, false, notFound(op)
	}
	k := s.opts.dirKeysFor(owner)
	res, err := s.eval(ctx, dirCreateScript, []string{k.z, k.h}, conv.ID, conv.Title,
		conv.Created, max, s.opts.ttlMillis(), k.channel, s.opts.cutoff(), dirEventPrefix).Slice()
	if err != nil {
		return storage.Conversation{}, false, fail(ctx, op, conv.ID, err)
	}
	if n, _ := res[0].(int64); n == -1 {
		if claimed == 2 {
			_ = s.eval(ctx, unclaimScript, []string{claim}, owner).Err()
		}
		return storage.Conversation{}, false, fmt.Errorf("redisstore: %s: %w", op, storage.ErrDirectoryFull)
	}
	if len(res) != 2 {
		return storage.Conversation{}, false, fail(ctx, op, conv.ID, errBadReply)
	}
	entry, _ := res[1].(string)
	c, err := parseDirEntry(conv.ID, entry)
	if err != nil {
		return storage.Conversation{}, false, fail(ctx, op, conv.ID, err)
	}
	fresh, _ := res[0].(int64)
	return c, fresh == 1, nil
}

// SessionClaimed implements storage.DirectoryStore: the session's owner key exists (a claim or
// a deletion's tombstone).
func (s *Store) SessionClaimed(ctx context.Context, sessionID string) (bool, error) {
	const op = "session claimed"
	if err := check(ctx, op, sessionID); err != nil {
		return false, err
	}
	n, err := s.client.Exists(ctx, s.opts.claimKey(sessionID)).Result()
	if err != nil {
		return false, fail(ctx, op, sessionID, err)
	}
	return n == 1, nil
}

// GetConversation implements storage.DirectoryStore.
func (s *Store) GetConversation(ctx context.Context, owner, id string) (storage.Conversation, error) {
	const op = "get conversation"
	if err := dirCheck(ctx, op, owner, id); err != nil {
		return storage.Conversation{}, err
	}
	entry, err := s.client.HGet(ctx, s.opts.dirKeysFor(owner).h, id).Result()
	if errors.Is(err, redis.Nil) {
		return storage.Conversation{}, notFound(op)
	}
	if err != nil {
		return storage.Conversation{}, fail(ctx, op, id, err)
	}
	c, err := parseDirEntry(id, entry)
	if err != nil {
		return storage.Conversation{}, fail(ctx, op, id, err)
	}
	if cut := s.opts.cutoff(); cut > 0 && c.LastActive <= cut {
		return storage.Conversation{}, notFound(op)
	}
	return c, nil
}

// ListConversations implements storage.DirectoryStore.
func (s *Store) ListConversations(ctx context.Context, owner, cursor string, limit int) (storage.ConversationPage, error) {
	const op = "list conversations"
	if err := dirCheck(ctx, op, owner, ""); err != nil {
		return storage.ConversationPage{}, err
	}
	if limit <= 0 {
		limit = core.DefaultConversationPage
	}
	limit = min(limit, 1000)
	after, score, cid := "0", int64(0), ""
	if at, id, ok := strings.Cut(cursor, ":"); ok && core.ValidSessionID(id) {
		if n, err := strconv.ParseInt(at, 10, 64); err == nil {
			after, score, cid = "1", n, id
		}
	}
	k := s.opts.dirKeysFor(owner)
	res, err := s.eval(ctx, dirListScript, []string{k.z, k.h}, limit, after, score, cid, s.opts.cutoff()).Slice()
	if err != nil {
		return storage.ConversationPage{}, fail(ctx, op, "", err)
	}
	var page storage.ConversationPage
	for i := 0; i+1 < len(res); i += 2 {
		id, _ := res[i].(string)
		entry, _ := res[i+1].(string)
		c, err := parseDirEntry(id, entry)
		if err != nil {
			return storage.ConversationPage{}, fail(ctx, op, id, err)
		}
		page.Conversations = append(page.Conversations, c)
	}
	if len(page.Conversations) > limit {
		page.Conversations = page.Conversations[:limit]
		last := page.Conversations[limit-1]
		page.Next = strconv.FormatInt(last.LastActive, 10) + ":" + last.ID
	}
	return page, nil
}

// UpdateConversation implements storage.DirectoryStore. It also refreshes the TTL of the
// session's claim, in the same round trip.
func (s *Store) UpdateConversation(ctx context.Context, owner, id string, u storage.ConversationUpdate) (storage.Conversation, error) {
	const op = "update conversation"
	if err := dirCheck(ctx, op, owner, id); err != nil {
		return storage.Conversation{}, err
	}
	if u.Title != nil && !storage.ValidTitle(*u.Title) {
		return storage.Conversation{}, fmt.Errorf("redisstore: %s: %w", op, storage.ErrInvalidTitle)
	}
	return s.update(ctx, op, owner, id, u, false)
}

func (s *Store) update(ctx context.Context, op, owner, id string, u storage.ConversationUpdate, reset bool) (storage.Conversation, error) {
	setTitle, title := "0", ""
	if u.Title != nil {
		setTitle, title = "1", *u.Title
	}
	running := ""
	if u.Running != nil {
		running = "0"
		if *u.Running {
			running = "1"
		}
	}
	kind := u.Event
	if kind == "" {
		kind = storage.ConversationActivity
	}
	resetArg := "0"
	if reset {
		resetArg = "1"
	}
	k := s.opts.dirKeysFor(owner)
	keys := []string{k.z, k.h}
	args := []any{id, setTitle, title, u.Active, u.AddMessages, running, string(kind), k.channel,
		s.opts.ttlMillis(), s.opts.cutoff(), resetArg, dirEventPrefix}
	var res *redis.Cmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = dirUpdateScript.EvalSha(ctx, p, keys, args...)
		if s.opts.ttl > 0 {
			p.PExpire(ctx, s.opts.claimKey(id), s.opts.ttl)
		}
		return nil
	})
	if err != nil && redis.HasErrorPrefix(res.Err(), "NOSCRIPT") {
		res = s.eval(ctx, dirUpdateScript, keys, args...)
		err = res.Err()
	}
	entry, rerr := res.Text()
	if errors.Is(rerr, redis.Nil) {
		return storage.Conversation{}, notFound(op)
	}
	if rerr != nil {
		return storage.Conversation{}, fail(ctx, op, id, rerr)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return storage.Conversation{}, fail(ctx, op, id, err)
	}
	c, err := parseDirEntry(id, entry)
	if err != nil {
		return storage.Conversation{}, fail(ctx, op, id, err)
	}
	return c, nil
}

// ClearConversation implements storage.DirectoryStore: the entry is checked (owner's slot),
// the session's history and streams removed (session's slot), then the entry reset.
func (s *Store) ClearConversation(ctx context.Context, owner, id string, now int64) (storage.Conversation, error) {
	const op = "clear conversation"
	if _, err := s.GetConversation(ctx, owner, id); err != nil {
		return storage.Conversation{}, err
	}
	if err := s.clearSession(ctx, op, id); err != nil {
		return storage.Conversation{}, err
	}
	return s.update(ctx, op, owner, id, storage.ConversationUpdate{Active: now, Event: storage.ConversationCleared}, true)
}

// DeleteConversation implements storage.DirectoryStore: the entry is removed (owner's slot),
// then the session's history and streams, and the claim becomes a tombstone (session's
// slot) for the session TTL.
func (s *Store) DeleteConversation(ctx context.Context, owner, id string) error {
	const op = "delete conversation"
	if err := dirCheck(ctx, op, owner, id); err != nil {
		return err
	}
	k := s.opts.dirKeysFor(owner)
	n, err := s.eval(ctx, dirDeleteScript, []string{k.z, k.h}, id, k.channel, s.opts.cutoff(), dirEventPrefix).Int()
	if err != nil {
		return fail(ctx, op, id, err)
	}
	if n == 0 {
		return notFound(op)
	}
	if err := s.clearSession(ctx, op, id); err != nil {
		return err
	}
	if err := s.eval(ctx, buryScript, []string{s.opts.claimKey(id)}, owner, tombstone, s.opts.ttlMillis()).Err(); err != nil {
		return fail(ctx, op, id, err)
	}
	return nil
}

func (s *Store) clearSession(ctx context.Context, op, id string) error {
	k := s.opts.keysFor(id)
	if err := s.eval(ctx, clearSessionScript, []string{k.stream, k.meta, k.streams}, k.base).Err(); err != nil {
		return fail(ctx, op, id, err)
	}
	return nil
}

// SubscribeDirectory implements storage.DirectoryStore on the Store's one pub/sub connection,
// like Subscribe: it returns once Redis has processed the SUBSCRIBE, fn runs on one of the
// Store's delivery workers, and fn receives DirectoryEvent{Resync: true} after the
// connection was re-established. cancel is idempotent and must not be called from fn.
func (s *Store) SubscribeDirectory(ctx context.Context, owner string, fn func(storage.DirectoryEvent)) (func(), error) {
	const op = "subscribe directory"
	if err := dirCheck(ctx, op, owner, ""); err != nil {
		return nil, err
	}
	k := s.opts.dirKeysFor(owner)
	sub := &subscriber{fn: func(n storage.Notification) { fn(directoryEvent(n)) }}
	if err := s.addSubscriber(ctx, k.channel, "", sub); err != nil { // no session keys to keep alive
		s.removeSubscriber(k.channel, sub)
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			sub.mu.Lock()
			sub.canceled = true
			sub.mu.Unlock()
			s.removeSubscriber(k.channel, sub)
		})
	}, nil
}

// directoryEvent decodes a notification of a directory channel; anything unexpected is
// reported as a Resync, so the subscriber reads the list again.
func directoryEvent(n storage.Notification) storage.DirectoryEvent {
	if n.Ephemeral == nil {
		return storage.DirectoryEvent{Resync: true}
	}
	kind, rest, ok1 := strings.Cut(n.Ephemeral.Content, "|")
	id, entry, ok2 := strings.Cut(rest, "|")
	if !ok1 || !ok2 {
		return storage.DirectoryEvent{Resync: true}
	}
	ev := storage.DirectoryEvent{Kind: storage.DirectoryEventKind(kind)}
	if ev.Kind == storage.ConversationDeleted {
		ev.Conversation = storage.Conversation{ID: id}
		return ev
	}
	c, err := parseDirEntry(id, entry)
	if err != nil {
		return storage.DirectoryEvent{Resync: true}
	}
	ev.Conversation = c
	return ev
}
