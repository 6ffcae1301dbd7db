package client

import (
	"context"
	"encoding/json"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// Conversation is the conversation part of an EventConversation event (PROTOCOL.md,
// "Conversations").
type Conversation struct {
	// Event is what happened: "list" (List and Next hold a page of the directory, newest
	// first; sent when the connection opens and on request), "opened" (the connection now
	// shows Entry: the frames after it belong to that conversation), "done" (a rename,
	// clear or delete call of this client succeeded), or a change seen by every connection
	// of the owner: "created", "renamed", "cleared" (its messages are gone: a view of it
	// starts empty), "deleted", "activity", "started" or "ended" (a reply started or ended;
	// Entry.Running says whether one runs).
	Event string
	// Entry is the conversation concerned (only its ID for "deleted").
	Entry core.Conversation
	// List and Next are set for "list" events.
	List []core.Conversation
	Next string
	// Action is the call an "opened" or "done" event answers ("create", "open", ...).
	Action string
	// Ref is the id of the call this event answers; "" for changes and the initial list.
	Ref string
}

// conversationMeta is metadata.conversation of a server frame.
type conversationMeta struct {
	Event  string              `json:"event"`
	Action string              `json:"action"`
	Ref    string              `json:"ref"`
	List   []core.Conversation `json:"list"`
	Next   string              `json:"next"`
	core.Conversation
}

// conversationOf decodes a conversation frame (a system envelope with
// metadata.conversation.event), or an error envelope answering a conversation call (ok,
// with Event "").
func conversationOf(m *core.Message) (cm conversationMeta, ok bool) {
	if (m.Type != core.TypeSystem && m.Type != core.TypeError) || len(m.Metadata) == 0 {
		return cm, false
	}
	var v struct {
		Conversation *conversationMeta `json:"conversation"`
	}
	if json.Unmarshal(m.Metadata, &v) != nil || v.Conversation == nil {
		return cm, false
	}
	if m.Type == core.TypeSystem && v.Conversation.Event == "" {
		return cm, false
	}
	if m.Type == core.TypeError {
		v.Conversation.Event = ""
	}
	return *v.Conversation, true
}

// callResult is the answer to a conversation call.
type callResult struct {
	meta conversationMeta
	err  error
}

// call sends a conversation call and waits for its answer (an "opened", "done" or "list"
// frame, or an error envelope naming the call).
func (c *Client) call(ctx context.Context, action string, fields map[string]any) (conversationMeta, error) {
	ref := core.NewID()
	fields["action"] = action
	frame, err := json.Marshal(map[string]any{
		"id": ref, "type": core.TypeSystem, "content": action,
		"metadata": map[string]any{"conversation": fields},
	})
	if err != nil {
		return conversationMeta{}, err
	}
	ch := make(chan callResult, 1)
	c.mu.Lock()
	if c.calls == nil {
		c.calls = make(map[string]chan callResult)
	}
	c.calls[ref] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.calls, ref)
		c.mu.Unlock()
	}()
	if err := c.write(ctx, frame); err != nil {
		return conversationMeta{}, err
	}
	select {
	case r := <-ch:
		return r.meta, r.err
	case <-ctx.Done():
		return conversationMeta{}, ctx.Err()
	case <-c.ctx.Done():
		return conversationMeta{}, ErrClosed
	}
}

// answer resolves the call ref names, if this client is waiting for it.
func (c *Client) answer(ref string, r callResult) {
	if ref == "" {
		return
	}
	c.mu.Lock()
	ch := c.calls[ref]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- r:
		default:
		}
	}
}

// Conversations returns a page of the owner's conversations, newest first, after cursor
// ("" for the first page; else the previous page's Next). Errors from the server are
// *ServerError (e.g. CONVERSATIONS_UNAVAILABLE when the connection has no owner).
func (c *Client) Conversations(ctx context.Context, cursor string) (storage.ConversationPage, error) {
	m, err := c.call(ctx, "list", map[string]any{"cursor": cursor})
	if err != nil {
		return storage.ConversationPage{}, err
	}
	return storage.ConversationPage{Conversations: m.List, Next: m.Next}, nil
}

// NewConversation creates a conversation (title may be "") and switches the connection to
// it, without reconnecting. Reconnects then resume it.
func (c *Client) NewConversation(ctx context.Context, title string) (core.Conversation, error) {
	m, err := c.call(ctx, "create", map[string]any{"title": title})
	return m.Conversation, err
}

// OpenConversation switches the connection to another conversation of its owner, without
// reconnecting: the events that follow belong to it, starting with its retained history
// and the running reply's text so far. A conversation that does not exist or is not the
// owner's is refused with the same *ServerError (code SESSION_NOT_FOUND) either way.
//
// It returns when the server has answered; SessionID and LastMessageID change when the new
// conversation's welcome frame, which follows the answer, has been read (before any of its
// events is delivered). Messages sent after OpenConversation returned go to the new
// conversation.
func (c *Client) OpenConversation(ctx context.Context, id string) (core.Conversation, error) {
	m, err := c.call(ctx, "open", map[string]any{"id": id})
	return m.Conversation, err
}

// RenameConversation renames a conversation of the owner (see storage.ValidTitle).
func (c *Client) RenameConversation(ctx context.Context, id, title string) (core.Conversation, error) {
	m, err := c.call(ctx, "rename", map[string]any{"id": id, "title": title})
	return m.Conversation, err
}

// ClearConversation removes a conversation's messages (a running reply is cancelled); the
// conversation stays.
func (c *Client) ClearConversation(ctx context.Context, id string) error {
	_, err := c.call(ctx, "clear", map[string]any{"id": id})
	return err
}

// DeleteConversation deletes a conversation of the owner (a running reply is cancelled).
// A connection showing it must open another one: messages to it are refused, and a
// reconnect to it is refused for good (its id is never used again).
func (c *Client) DeleteConversation(ctx context.Context, id string) error {
	_, err := c.call(ctx, "delete", map[string]any{"id": id})
	return err
}

// midWelcome handles a welcome frame after the first one: the connection switched
// conversations, so the session, the resume point and the receiver's state start over.
func (c *Client) midWelcome(w envelope.Welcome) {
	c.mu.Lock()
	if c.sessionID != w.SessionID {
		c.sessionID = w.SessionID
		c.lastID = ""
		c.recv = newReceiver(c.opts.DedupeWindow)
	}
	c.connID, c.epoch = w.ConnectionID, w.Epoch
	c.mu.Unlock()
}

// conversationEvent turns a conversation frame into an event, answering a waiting call.
func (c *Client) conversationEvent(m core.Message, cm conversationMeta) (Event, bool) {
	if m.Type == core.TypeError {
		meta := parseMeta(m.Metadata)
		err := &ServerError{Code: meta.Code, Message: m.Content}
		c.answer(cm.Ref, callResult{err: err})
		return Event{Kind: EventError, Message: m, Err: err}, true
	}
	c.answer(cm.Ref, callResult{meta: cm})
	ev := Conversation{Event: cm.Event, Entry: cm.Conversation, List: cm.List, Next: cm.Next, Action: cm.Action, Ref: cm.Ref}
	return Event{Kind: EventConversation, Message: m, Conversation: ev}, true
}
