package demo

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// DeviceCookie names the cookie the demo page sets to a random id per browser, so that
// visitors without an account still get their own conversation sidebar.
const DeviceCookie = "chatwire_device"

// Conversations returns the directory options of the examples: the owner is the signed-in
// user (the principal) when there is one, else the browser's DeviceCookie ("device:<id>").
// The device fallback is for a demo: whoever presents the cookie owns those conversations.
func Conversations() core.ConversationOptions {
	return core.ConversationOptions{Enabled: true, Owner: Owner}
}

// Owner is the examples' core.ConversationOptions.Owner; see Conversations.
func Owner(principal any, header http.Header) string {
	if p := core.DefaultOwner(principal, header); p != "" {
		return p
	}
	r := http.Request{Header: header}
	if c, err := r.Cookie(DeviceCookie); err == nil && core.ValidSessionID(c.Value) {
		return "device:" + c.Value
	}
	return ""
}

// Titled names an untitled conversation after its first chat message (at most 40
// characters), then lets next handle the message.
func Titled(next core.Handler) core.Handler {
	return core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		if req.Message.Type == core.TypeMessage {
			if conv, err := w.Conversation(ctx); err == nil && conv.Title == "" {
				_ = w.SetTitle(ctx, titleOf(req.Message.Content)) // best effort: the reply matters more
			}
		}
		return next.ServeChat(ctx, req, w)
	})
}

// titleOf is the first line of text, cut to 40 characters, without control characters.
func titleOf(text string) string {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x200b && r <= 0x206f) || r == 0xfeff {
			return ' '
		}
		return r
	}, strings.TrimSpace(text))
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > 40 {
		text = string([]rune(text)[:40]) + "…"
	}
	if text == "" || !storage.ValidTitle(text) {
		return "Untitled"
	}
	return text
}
