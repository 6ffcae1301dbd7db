package core

import (
	"context"
	"errors"
	"net/http"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// Client-visible texts of conversation refusals.
const (
	textConversationNotFound = "Conversation not found"
	textConversationDeleted  = "This conversation was deleted; open another one"
	textNoDirectory          = "Conversations are not available on this connection"
	textInvalidTitle         = "Invalid title"
	textConversationLimit    = "Too many conversations; delete some first"
	textConversationFailed   = "Conversation call failed; please retry"
	textUnknownAction        = "Unknown conversation action"
)

// joinDirectory runs before a connection joins its session (Prepare): with conversations
// enabled and an owner, the session must be the owner's conversation or claimable by it (a
// new id, or a session nobody has claimed), and the connection starts receiving the owner's
// directory events. A refusal is a *HandshakeError. After the join, queueDirectory tells the
// connection the list and which conversation it shows.
func (c *connection) joinDirectory(ctx context.Context) error {
	d := c.hub.dir
	if d == nil {
		return nil
	}
	c.owner = d.opts.Owner(c.info.Principal, c.info.Header)
	if c.owner != "" && !storage.ValidOwner(c.owner) {
		c.hub.log.Warn("chatwire: invalid conversation owner; connection has no directory")
		c.owner = ""
	}
	sctx, cancel := c.hub.storeCtx(ctx)
	defer cancel()
	if c.owner == "" {
		// No directory: the connection may join only sessions no owner has claimed.
		claimed, err := d.store.SessionClaimed(sctx, c.info.SessionID)
		switch {
		case err != nil:
			return unavailable(err)
		case claimed:
			return &HandshakeError{Status: http.StatusNotFound, Body: string(CodeSessionNotFound), Code: CodeSessionNotFound, Err: ErrConversationNotFound}
		}
		return nil
	}
	conv, _, err := d.store.CreateConversation(sctx, c.owner, Conversation{ID: c.info.SessionID, Created: envelope.NowMillis()}, d.opts.MaxPerOwner)
	switch {
	case errors.Is(err, ErrConversationNotFound):
		return &HandshakeError{Status: http.StatusNotFound, Body: string(CodeSessionNotFound), Code: CodeSessionNotFound, Err: err}
	case errors.Is(err, storage.ErrDirectoryFull):
		return &HandshakeError{Status: http.StatusConflict, Body: string(CodeConversationLimit), Code: CodeConversationLimit, Err: err}
	case err != nil:
		return unavailable(err)
	}
	c.conv = conv
	w, err := d.acquire(ctx, c.owner)
	if err != nil {
		return unavailable(err)
	}
	c.dirw = w
	w.add(c)
	return nil
}

func unavailable(err error) *HandshakeError {
	return &HandshakeError{Status: http.StatusServiceUnavailable, Body: "Session unavailable", Code: CodeSessionUnavailable, Err: err}
}

// queueDirectory queues, after the welcome and the replay, the first page of the owner's
// list and the "opened" frame of the conversation the connection shows.
func (c *connection) queueDirectory(ctx context.Context) error {
	if c.dirw == nil {
		return nil
	}
	sctx, cancel := c.hub.storeCtx(ctx)
	defer cancel()
	page, err := c.listPage(sctx, "", c.hub.dir.opts.PageSize)
	if err != nil {
		return unavailable(err)
	}
	c.mu.Lock()
	c.enqueueLocked(frameOf(listMessage(page, "")), true)
	c.enqueueLocked(frameOf(openedMessage(c.conv, "", "")), true)
	c.mu.Unlock()
	return nil
}

// leaveDirectory stops the connection's directory updates.
func (c *connection) leaveDirectory() {
	if c.dirw != nil {
		c.dirw.remove(c)
		c.hub.dir.release(c.dirw)
		c.dirw = nil
	}
}

// listPage reads one page of the owner's list. An entry marked running whose session has
// no live stream (its producer died before it could say the reply ended) is corrected.
func (c *connection) listPage(ctx context.Context, cursor string, limit int) (storage.ConversationPage, error) {
	h := c.hub
	page, err := h.dir.store.ListConversations(ctx, c.owner, cursor, limit)
	if err != nil {
		return page, err
	}
	for i := range page.Conversations {
		conv := &page.Conversations[i]
		if !conv.Running {
			continue
		}
		states, err := h.store.StreamSnapshot(ctx, conv.ID)
		if err != nil {
			return page, err
		}
		live := false
		for _, st := range states {
			live = live || !st.Expired
		}
		if !live {
			off := false
			if fixed, err := h.dir.store.UpdateConversation(ctx, c.owner, conv.ID, storage.ConversationUpdate{Running: &off, Event: storage.ConversationEnded}); err == nil {
				*conv = fixed
			}
		}
	}
	return page, nil
}

// conversationFrame consumes m when it is a conversation call (or any message sent to a
// conversation that was deleted meanwhile) and reports whether it did. It runs on the
// connection's reader, after decoding and before guards.
func (c *connection) conversationFrame(m *Message) bool {
	h := c.hub
	if h.dir == nil {
		return false
	}
	call, ok := conversationRequest(m)
	if !ok {
		c.mu.Lock()
		gone := c.gone
		c.mu.Unlock()
		if gone && m.Type != TypeTyping {
			c.sendError(NewError(CodeSessionNotFound, textConversationDeleted))
		}
		return gone
	}
	ref := m.ID
	if !c.guardCall(m, call, ref) {
		return true // rate limits and other guards apply to calls as to messages
	}
	if c.dirw == nil {
		c.sendConversationError(CodeConversationsUnavailable, textNoDirectory, call, ref)
		return true
	}
	code, text := c.runCall(call, ref)
	if code != "" {
		c.sendConversationError(code, text, call, ref)
		h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: c.info.SessionID, Message: m, Err: NewError(code, text)})
		return true
	}
	h.frameIn(FrameIn{Phase: FrameHandled, ConnID: c.id, SessionID: c.info.SessionID, Message: m})
	return true
}

// guardCall runs the Guards on a call like guard does on a message, answering a refusal
// with the call's ref so the client can match it.
func (c *connection) guardCall(m *Message, call conversationCall, ref string) bool {
	h := c.hub
	req := &Request{Message: *m, SessionID: c.info.SessionID, ConnID: c.id, Principal: c.info.Principal, Header: c.info.Header}
	for _, g := range h.opts.Guards {
		err := c.callGuard(g, req)
		if err == nil {
			continue
		}
		h.frameIn(FrameIn{Phase: FrameRejected, ConnID: c.id, SessionID: c.info.SessionID, Message: m, Err: err})
		if errors.Is(err, ErrPolicyViolation) {
			c.closeWith(ClosePolicyViolation, "policy violation", false)
			return false
		}
		var e *Error
		if !errors.As(err, &e) {
			h.log.Error("chatwire: guard failed", "session", c.info.SessionID, "conn", c.id, "err", err)
			e = WrapError(CodeInternal, textInternal, err)
		}
		c.sendConversationError(e.Code, e.Text, call, ref)
		return false
	}
	return true
}

// runCall executes a call; it returns the code and text of a refusal, or "" when done.
func (c *connection) runCall(call conversationCall, ref string) (code ErrorCode, text string) {
	h := c.hub
	d := h.dir
	ctx, cancel := h.storeCtx(c.ctx)
	defer cancel()
	fail := func(err error) (ErrorCode, string) {
		switch {
		case errors.Is(err, ErrConversationNotFound):
			return CodeSessionNotFound, textConversationNotFound
		case errors.Is(err, ErrInvalidTitle):
			return CodeInvalidTitle, textInvalidTitle
		case errors.Is(err, storage.ErrDirectoryFull):
			return CodeConversationLimit, textConversationLimit
		}
		h.log.Warn("chatwire: conversation call failed", "action", call.Action, "conn", c.id, "err", err)
		return CodeStoreUnavailable, textConversationFailed
	}
	switch call.Action {
	case actionList, actionCreate, actionOpen, actionRename, actionClear, actionDelete:
	default:
		return CodeInvalidMessage, textUnknownAction
	}
	// Every call but list and create names a conversation of the owner. An id that is
	// invalid, unknown or someone else's gets the same answer.
	var conv Conversation
	if call.Action != actionList && call.Action != actionCreate {
		if !ValidSessionID(call.ID) {
			return CodeSessionNotFound, textConversationNotFound
		}
		var err error
		if conv, err = d.store.GetConversation(ctx, c.owner, call.ID); err != nil {
			return fail(err)
		}
	}
	switch call.Action {
	case actionList:
		limit := d.opts.PageSize
		if call.Limit > 0 && call.Limit < limit {
			limit = call.Limit
		}
		page, err := c.listPage(ctx, call.Cursor, limit)
		if err != nil {
			return fail(err)
		}
		c.send(listMessage(page, ref))
	case actionCreate:
		title := ""
		if call.Title != nil {
			title = storage.NormalizeTitle(*call.Title)
		}
		if !storage.ValidTitle(title) {
			return CodeInvalidTitle, textInvalidTitle
		}
		conv, _, err := d.store.CreateConversation(ctx, c.owner, Conversation{ID: NewID(), Title: title, Created: envelope.NowMillis()}, d.opts.MaxPerOwner)
		if err != nil {
			return fail(err)
		}
		if err := c.switchTo(ctx, conv, call.Action, ref, ""); err != nil {
			return fail(err)
		}
	case actionOpen:
		if d.opts.Authorize != nil {
			if err := d.opts.Authorize(ctx, c.info.Principal, conv.ID); err != nil {
				return CodeSessionNotFound, textConversationNotFound
			}
		}
		if err := c.switchTo(ctx, conv, call.Action, ref, call.LastMessageID); err != nil {
			return fail(err)
		}
	case actionRename:
		if call.Title == nil {
			return CodeInvalidTitle, textInvalidTitle
		}
		title := storage.NormalizeTitle(*call.Title)
		if !storage.ValidTitle(title) {
			return CodeInvalidTitle, textInvalidTitle
		}
		conv, err := d.store.UpdateConversation(ctx, c.owner, conv.ID, storage.ConversationUpdate{Title: &title, Event: storage.ConversationRenamed})
		if err != nil {
			return fail(err)
		}
		c.send(doneMessage(conv, call.Action, ref))
	case actionClear:
		// The streams are removed with the history first and cancelled after, so a producer
		// that ends its stream on the cancel finds it gone and stores nothing: a final
		// message stored between a cancel and the clear would count in the cleared entry.
		running := c.runningStreams(ctx, conv.ID)
		conv, err := d.store.ClearConversation(ctx, c.owner, conv.ID, envelope.NowMillis())
		if err != nil {
			return fail(err)
		}
		c.cancelStreams(ctx, conv.ID, running)
		c.send(doneMessage(conv, call.Action, ref))
	case actionDelete:
		running := c.runningStreams(ctx, conv.ID)
		if err := d.store.DeleteConversation(ctx, c.owner, conv.ID); err != nil {
			return fail(err)
		}
		c.cancelStreams(ctx, conv.ID, running)
		c.send(doneMessage(Conversation{ID: conv.ID}, call.Action, ref))
	}
	return "", ""
}

// runningStreams returns the ids of the session's running streams (none when they cannot
// be read: the clear or delete that follows removes them all the same).
func (c *connection) runningStreams(ctx context.Context, sessionID string) []string {
	h := c.hub
	states, err := h.store.StreamSnapshot(ctx, sessionID)
	if err != nil {
		h.log.Warn("chatwire: reading running streams failed", "session", sessionID, "err", err)
		return nil
	}
	ids := make([]string, 0, len(states))
	for _, st := range states {
		ids = append(ids, st.ID)
	}
	return ids
}

// cancelStreams asks the streams ids of the session to stop, wherever they run. Called
// after a clear or delete removed them from the store, their producers stop and store
// nothing.
func (c *connection) cancelStreams(ctx context.Context, sessionID string, ids []string) {
	h := c.hub
	for _, id := range ids {
		if err := h.CancelStream(ctx, sessionID, id); err != nil {
			h.log.Warn("chatwire: cancel request not published", "session", sessionID, "err", err)
		}
	}
}
