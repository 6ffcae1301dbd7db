package readme_test

// The README's "Conversations" snippets, verbatim.

import (
	"context"
	"net/http"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
)

var _ = []any{conversationsServer, conversationsClient}

func conversationsServer() *core.Hub {
	// The store keeps the directories (core.MemoryStore and redisstore.Store do); the owner of
	// a connection is its authenticated principal unless ConversationOptions.Owner says otherwise.
	hub := core.NewHub(core.Options{
		Store:         store,
		Conversations: core.ConversationOptions{Enabled: true},
		Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
			if conv, _ := w.Conversation(ctx); conv.Title == "" {
				_ = w.SetTitle(ctx, req.Message.Content) // name it after its first message
			}
			return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
		}),
	})
	return hub
}

func conversationsClient(ctx context.Context, url string, authHeader http.Header) {
	c, _ := client.Dial(ctx, url, client.Options{Header: authHeader})
	// Created, and this connection switched to it:
	conv, _ := c.NewConversation(ctx, "Lisbon trip")
	// Newest first; every change also arrives as an EventConversation event:
	page, _ := c.Conversations(ctx, "")
	// Switch without reconnecting:
	_, _ = c.OpenConversation(ctx, page.Conversations[1].ID)
	_, _ = c.RenameConversation(ctx, conv.ID, "Porto trip")
	// A running reply is cancelled; every window is told:
	_ = c.DeleteConversation(ctx, conv.ID)
}
