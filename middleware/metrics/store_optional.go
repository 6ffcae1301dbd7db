package metrics

import (
	"context"
	"time"

	"github.com/chatwire/chatwire/storage"
)

// pendingStore times the storage.PendingStore calls of a wrapped store (see Metrics.Store).
type pendingStore struct {
	inner storage.PendingStore
	m     *Metrics
}

var _ storage.PendingStore = (*pendingStore)(nil)

func (s *pendingStore) PendingAdd(ctx context.Context, sessionID string, req storage.PendingRequest) error {
	start := time.Now()
	err := s.inner.PendingAdd(ctx, sessionID, req)
	s.m.observeStore("pending_add", start, err)
	return err
}

func (s *pendingStore) PendingGet(ctx context.Context, sessionID, id string) (storage.PendingRequest, error) {
	start := time.Now()
	req, err := s.inner.PendingGet(ctx, sessionID, id)
	s.m.observeStore("pending_get", start, err)
	return req, err
}

func (s *pendingStore) PendingList(ctx context.Context, sessionID string) ([]storage.PendingRequest, error) {
	start := time.Now()
	reqs, err := s.inner.PendingList(ctx, sessionID)
	s.m.observeStore("pending_list", start, err)
	return reqs, err
}

func (s *pendingStore) PendingAnswer(ctx context.Context, sessionID, id string, ans storage.PendingAnswer, now int64) (storage.PendingRequest, error) {
	start := time.Now()
	req, err := s.inner.PendingAnswer(ctx, sessionID, id, ans, now)
	s.m.observeStore("pending_answer", start, err)
	return req, err
}

func (s *pendingStore) PendingDelete(ctx context.Context, sessionID, id string) error {
	start := time.Now()
	err := s.inner.PendingDelete(ctx, sessionID, id)
	s.m.observeStore("pending_delete", start, err)
	return err
}

// directoryStore times the storage.DirectoryStore calls of a wrapped store (see
// Metrics.Store).
type directoryStore struct {
	inner storage.DirectoryStore
	m     *Metrics
}

var _ storage.DirectoryStore = (*directoryStore)(nil)

func (s *directoryStore) CreateConversation(ctx context.Context, owner string, conv storage.Conversation, max int) (storage.Conversation, bool, error) {
	start := time.Now()
	c, created, err := s.inner.CreateConversation(ctx, owner, conv, max)
	s.m.observeStore("conversation_create", start, err)
	return c, created, err
}

func (s *directoryStore) SessionClaimed(ctx context.Context, sessionID string) (bool, error) {
	start := time.Now()
	claimed, err := s.inner.SessionClaimed(ctx, sessionID)
	s.m.observeStore("session_claimed", start, err)
	return claimed, err
}

func (s *directoryStore) GetConversation(ctx context.Context, owner, id string) (storage.Conversation, error) {
	start := time.Now()
	c, err := s.inner.GetConversation(ctx, owner, id)
	s.m.observeStore("conversation_get", start, err)
	return c, err
}

func (s *directoryStore) ListConversations(ctx context.Context, owner, cursor string, limit int) (storage.ConversationPage, error) {
	start := time.Now()
	page, err := s.inner.ListConversations(ctx, owner, cursor, limit)
	s.m.observeStore("conversation_list", start, err)
	return page, err
}

func (s *directoryStore) UpdateConversation(ctx context.Context, owner, id string, u storage.ConversationUpdate) (storage.Conversation, error) {
	start := time.Now()
	c, err := s.inner.UpdateConversation(ctx, owner, id, u)
	s.m.observeStore("conversation_update", start, err)
	return c, err
}

func (s *directoryStore) ClearConversation(ctx context.Context, owner, id string, now int64) (storage.Conversation, error) {
	start := time.Now()
	c, err := s.inner.ClearConversation(ctx, owner, id, now)
	s.m.observeStore("conversation_clear", start, err)
	return c, err
}

func (s *directoryStore) DeleteConversation(ctx context.Context, owner, id string) error {
	start := time.Now()
	err := s.inner.DeleteConversation(ctx, owner, id)
	s.m.observeStore("conversation_delete", start, err)
	return err
}

func (s *directoryStore) SubscribeDirectory(ctx context.Context, owner string, fn func(storage.DirectoryEvent)) (func(), error) {
	start := time.Now()
	cancel, err := s.inner.SubscribeDirectory(ctx, owner, fn)
	s.m.observeStore("directory_subscribe", start, err)
	return cancel, err
}
