package core

import (
	"context"
	"errors"

	"github.com/chatwire/chatwire/storage"
)

// switchTo moves the connection to conv's session: it leaves the old session's fan-out
// (frames already queued from it stay ahead), queues an "opened" frame, and joins the new
// session with a replay (of every retained message, or those after last) and the running
// streams' resume, exactly as a new connection would. Frames after "opened" belong to conv.
// Messages the client sent before the call stay with the old session. Runs on the reader.
func (c *connection) switchTo(ctx context.Context, conv Conversation, action, ref, last string) error {
	h := c.hub
	s, err := h.acquireSession(ctx, conv.ID)
	if err != nil {
		return err
	}
	old := c.sess
	old.leave(c)
	c.mu.Lock()
	c.sess = s
	c.info.SessionID = conv.ID
	c.info.LastMessageID = last
	c.info.ReplayAll = last == ""
	c.info.Epoch = "" // the client's epoch was the old session's
	c.gone = false
	c.streamSeq = nil
	c.enqueueLocked(frameOf(openedMessage(conv, action, ref)), true)
	c.mu.Unlock()
	_, err = c.attach(ctx, s)
	h.releaseSession(old)
	if err != nil {
		// The old session is left and the new one could not be read: the client reconnects
		// (to the conversation it asked for) and resumes from there.
		h.log.Warn("chatwire: switching conversation failed", "session", conv.ID, "conn", c.id, "err", err)
		c.closeWith(CloseTryAgainLater, "session unavailable", true)
	}
	return nil
}

// touch records activity in the directory entry of sessionID (owned by the connection's
// owner) and publishes it. Failures are logged: the message itself is already stored.
func (c *connection) touch(sessionID string, u storage.ConversationUpdate) {
	h := c.hub
	if h.dir == nil || c.owner == "" {
		return
	}
	ctx, cancel := h.storeCtx(h.baseCtx)
	defer cancel()
	if _, err := h.dir.store.UpdateConversation(ctx, c.owner, sessionID, u); err != nil && !errors.Is(err, ErrConversationNotFound) {
		h.log.Warn("chatwire: conversation activity not recorded", "session", sessionID, "err", err)
	}
}

// Conversation returns the directory entry of the conversation the replies go to.
func (w *ReplyWriter) Conversation(ctx context.Context) (Conversation, error) {
	c := w.c
	if c.hub.dir == nil || c.owner == "" {
		return Conversation{}, ErrNoDirectory
	}
	sctx, cancel := c.hub.storeCtx(ctx)
	defer cancel()
	return c.hub.dir.store.GetConversation(sctx, c.owner, w.sid)
}

// SetTitle names the conversation the replies go to (for example from the first message);
// every connection of the owner sees it renamed. The title is trimmed and must satisfy
// storage.ValidTitle (else an *Error with code INVALID_TITLE).
func (w *ReplyWriter) SetTitle(ctx context.Context, title string) error {
	c := w.c
	if c.hub.dir == nil || c.owner == "" {
		return ErrNoDirectory
	}
	title = storage.NormalizeTitle(title)
	if !storage.ValidTitle(title) {
		return WrapError(CodeInvalidTitle, textInvalidTitle, ErrInvalidTitle)
	}
	sctx, cancel := c.hub.storeCtx(ctx)
	defer cancel()
	_, err := c.hub.dir.store.UpdateConversation(sctx, c.owner, w.sid, storage.ConversationUpdate{Title: &title, Event: storage.ConversationRenamed})
	return err
}
