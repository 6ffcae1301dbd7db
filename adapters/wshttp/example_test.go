package wshttp_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
)

// Mount the chat endpoint in a net/http ServeMux. Authenticate runs before the upgrade and
// passes the principal on to the chat handlers.
func Example() {
	hub := core.NewHub(core.Options{Handler: core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
	})})

	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		Authenticate: func(r *http.Request) (any, error) {
			c, err := r.Cookie("session") // e.g. look the session up
			if err != nil {
				return nil, err // 401
			}
			return c.Value, nil
		},
	}))

	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hub.Shutdown(sctx) // chat connections first: hijacked connections are not the server's
	_ = srv.Shutdown(sctx)
}
