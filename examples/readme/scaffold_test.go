package readme_test

import (
	"context"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/chatwire/chatwire/core"
)

// What the snippets take for granted: a handler, a store, a logger, a token verifier, a
// session authorizer and a model that streams tokens.
var (
	bot    core.Handler = core.HandlerFunc(func(context.Context, *core.Request, *core.ReplyWriter) error { return nil })
	store  core.Store   = core.NewMemoryStore(core.MemoryStoreOptions{})
	logger              = slog.New(slog.DiscardHandler)
	model  fakeModel
)

func verifyJWT(ctx context.Context, token string) (principal any, expires time.Time, err error) {
	return token, time.Time{}, nil
}

func mayJoin(ctx context.Context, principal any, sessionID string) error { return nil }

type fakeModel struct{}

// Tokens yields the words of its answer, stopping when ctx ends.
func (fakeModel) Tokens(ctx context.Context, question string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, w := range strings.Fields(question) {
			if ctx.Err() != nil || !yield(w+" ") {
				return
			}
		}
	}
}
