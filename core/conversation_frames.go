package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/storage"
)

// Conversation calls a client sends (metadata.conversation.action; PROTOCOL.md).
const (
	actionList   = "list"
	actionCreate = "create"
	actionOpen   = "open"
	actionRename = "rename"
	actionClear  = "clear"
	actionDelete = "delete"
)

// conversationCall is a client's conversation call:
// {"type":"system","content":…,"metadata":{"conversation":{"action":"rename","id":…,"title":…}}}.
// The envelope's id, when the client set one, comes back as "ref" in the answer.
type conversationCall struct {
	Action        string  `json:"action"`
	ID            string  `json:"id"`
	Title         *string `json:"title"`
	Cursor        string  `json:"cursor"`
	Limit         int     `json:"limit"`
	LastMessageID string  `json:"lastMessageId"`
}

// conversationRequest reports whether m is a conversation call, and decodes it.
func conversationRequest(m *Message) (conversationCall, bool) {
	var v struct {
		Conversation *conversationCall `json:"conversation"`
	}
	if m.Type != TypeSystem || len(m.Metadata) == 0 || json.Unmarshal(m.Metadata, &v) != nil ||
		v.Conversation == nil || v.Conversation.Action == "" {
		return conversationCall{}, false
	}
	return *v.Conversation, true
}

// dirPart is a directory event waiting in a connection's queue, encoded only when written,
// so later events of the same conversation can replace it while the connection is behind.
type dirPart struct {
	ev storage.DirectoryEvent
}

// mergeable reports whether a queued event may be replaced by a later one of the same
// conversation: clears and deletes are never merged away (a viewer must reset its view).
func (p *dirPart) mergeable() bool {
	return p.ev.Kind != storage.ConversationCleared && p.ev.Kind != storage.ConversationDeleted
}

// eventFrame is metadata.conversation of a directory event, opened or done frame.
type eventFrame struct {
	Event  string `json:"event"`
	Action string `json:"action,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Conversation
}

// listFrame is metadata.conversation of a list frame.
type listFrame struct {
	Event string         `json:"event"`
	Ref   string         `json:"ref,omitempty"`
	List  []Conversation `json:"list"`
	Next  string         `json:"next,omitempty"`
}

func systemFrame(content string, meta any) *Message {
	b, _ := json.Marshal(struct {
		Conversation any `json:"conversation"`
	}{meta}) // plain structs of strings, numbers and bools: cannot fail
	return &Message{ID: NewID(), Type: TypeSystem, Role: RoleSystem, Content: content, Metadata: b, Timestamp: envelope.NowMillis()}
}

// eventMessage is the frame of a directory event.
func eventMessage(ev storage.DirectoryEvent) *Message {
	return systemFrame("conversation "+string(ev.Kind), eventFrame{Event: string(ev.Kind), Conversation: ev.Conversation})
}

// listMessage is the frame with one page of the list (ref: the call's envelope id).
func listMessage(p storage.ConversationPage, ref string) *Message {
	list := p.Conversations
	if list == nil {
		list = []Conversation{}
	}
	return systemFrame("conversations", listFrame{Event: "list", Ref: ref, List: list, Next: p.Next})
}

// openedMessage tells a connection that the frames after it belong to conv.
func openedMessage(conv Conversation, action, ref string) *Message {
	return systemFrame("conversation opened", eventFrame{Event: "opened", Action: action, Ref: ref, Conversation: conv})
}

// doneMessage acknowledges a rename, clear or delete call.
func doneMessage(conv Conversation, action, ref string) *Message {
	return systemFrame("conversation "+action+" done", eventFrame{Event: "done", Action: action, Ref: ref, Conversation: conv})
}

// sendConversationError answers a refused call: an error envelope with metadata
// {"code":…,"conversation":{"action":…,"ref":…}}.
func (c *connection) sendConversationError(code ErrorCode, text string, call conversationCall, ref string) {
	b, _ := json.Marshal(struct {
		Code         ErrorCode `json:"code"`
		Conversation struct {
			Action string `json:"action"`
			Ref    string `json:"ref,omitempty"`
		} `json:"conversation"`
	}{Code: code, Conversation: struct {
		Action string `json:"action"`
		Ref    string `json:"ref,omitempty"`
	}{call.Action, ref}})
	c.send(&Message{ID: NewID(), Type: TypeError, Role: RoleSystem, Content: text, Metadata: b, Timestamp: envelope.NowMillis()})
}

// deliverDirectory queues a directory event for this connection, replacing a queued event
// of the same conversation that was not written yet (slow readers get the latest state).
// A deleted event for the conversation the connection shows marks it gone.
func (c *connection) deliverDirectory(ev storage.DirectoryEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.Kind == storage.ConversationDeleted && ev.Conversation.ID == c.info.SessionID {
		c.gone = true
	}
	p := &dirPart{ev: ev}
	if p.mergeable() {
		for i := len(c.queue) - 1; i >= 0; i-- {
			q := c.queue[i].dir
			if q == nil || q.ev.Conversation.ID != ev.Conversation.ID {
				continue
			}
			if q.mergeable() {
				q.ev = ev
				return
			}
			break
		}
	}
	c.enqueueLocked(outFrame{dir: p}, false)
}

// backoffDelay is the wait before retry attempt n (0-based): 50ms doubling up to 5s.
func backoffDelay(n int) time.Duration {
	d := 50 * time.Millisecond
	for i := 0; i < n && d < 5*time.Second; i++ {
		d *= 2
	}
	return min(d, 5*time.Second)
}

// sleepCtx waits d; it reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
