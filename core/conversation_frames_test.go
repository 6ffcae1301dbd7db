package core

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/chatwire/chatwire/storage"
)

// A connection that is behind keeps, per conversation, only the latest of the mergeable
// directory events still queued; clears and deletes are never merged away.
func TestDirectoryEventsCompactForSlowReaders(t *testing.T) {
	ev := func(kind storage.DirectoryEventKind, id string, messages int64) storage.DirectoryEvent {
		return storage.DirectoryEvent{Kind: kind, Conversation: Conversation{ID: id, Messages: messages}}
	}
	tests := []struct {
		name   string
		events []storage.DirectoryEvent
		want   []string // "<kind> <id> <messages>" of the queued frames, in order
	}{
		{"activity merges", []storage.DirectoryEvent{ev(storage.ConversationActivity, "a", 1), ev(storage.ConversationActivity, "a", 2), ev(storage.ConversationEnded, "a", 3)}, []string{"ended a 3"}},
		{"conversations apart", []storage.DirectoryEvent{ev(storage.ConversationActivity, "a", 1), ev(storage.ConversationActivity, "b", 1), ev(storage.ConversationActivity, "a", 2)}, []string{"activity a 2", "activity b 1"}},
		{"clear is kept", []storage.DirectoryEvent{ev(storage.ConversationActivity, "a", 5), ev(storage.ConversationCleared, "a", 0), ev(storage.ConversationActivity, "a", 1), ev(storage.ConversationActivity, "a", 2)}, []string{"activity a 5", "cleared a 0", "activity a 2"}},
		{"delete is kept", []storage.DirectoryEvent{ev(storage.ConversationRenamed, "a", 0), ev(storage.ConversationDeleted, "a", 0)}, []string{"renamed a 0", "deleted a 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHub(Options{})
			c := newConnection(h, nil, connInfo{SessionID: "s"}) // no socket: frames stay queued
			for _, e := range tt.events {
				c.deliverDirectory(e)
			}
			var got []string
			for _, f := range c.queue {
				m := eventMessage(f.dir.ev)
				var meta struct {
					Conversation struct {
						Event    string `json:"event"`
						ID       string `json:"id"`
						Messages int64  `json:"messages"`
					} `json:"conversation"`
				}
				if err := json.Unmarshal(m.Metadata, &meta); err != nil {
					t.Fatal(err)
				}
				mc := meta.Conversation
				got = append(got, mc.Event+" "+mc.ID+" "+strconv.FormatInt(mc.Messages, 10))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("queued %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("queued %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// A deleted event for the conversation a connection shows marks it gone.
func TestDeletedConversationMarksConnectionGone(t *testing.T) {
	h := NewHub(Options{})
	c := newConnection(h, nil, connInfo{SessionID: "s"})
	c.deliverDirectory(storage.DirectoryEvent{Kind: storage.ConversationDeleted, Conversation: Conversation{ID: "other"}})
	if c.gone {
		t.Fatal("another conversation's deletion marked the connection gone")
	}
	c.deliverDirectory(storage.DirectoryEvent{Kind: storage.ConversationDeleted, Conversation: Conversation{ID: "s"}})
	if !c.gone {
		t.Fatal("the deletion of the conversation shown did not mark the connection gone")
	}
}

func TestValidTitle(t *testing.T) {
	long := make([]byte, storage.MaxTitleLength+1)
	for i := range long {
		long[i] = 'x'
	}
	for title, want := range map[string]bool{
		"":                                    true,
		"Trip to Lisbon ✈":                    true,
		string(long[:storage.MaxTitleLength]): true,
		string(long):                          false,
		"tab\there":                           false,
		"line\nbreak":                         false,
		"nul\x00":                             false,
		"del\x7f":                             false,
		"c1\u0085":                            false,
		"bidi \u202e override":                false,
		"zero\u200bwidth":                     false,
		"bad \xff utf8":                       false,
	} {
		if got := storage.ValidTitle(title); got != want {
			t.Errorf("ValidTitle(%q) = %v, want %v", title, got, want)
		}
	}
}

func TestConversationsNeedADirectoryStore(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewHub accepted Conversations without a DirectoryStore")
		}
	}()
	NewHub(Options{Conversations: ConversationOptions{Enabled: true}})
}
