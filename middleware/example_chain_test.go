package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
	"github.com/gorilla/websocket"
)

// One middleware value installs everything: Apply puts the chain's admission (here token
// authentication), its guards (a rate limit) and its hooks on the hub's Options, and every
// adapter reads the admission from the hub.
func ExampleChain() {
	verify := func(ctx context.Context, token string) (any, time.Time, error) {
		if token != "s3cret" {
			return nil, time.Time{}, errors.New("unknown token") // 401
		}
		return "alice", time.Time{}, nil
	}
	mw := middleware.Chain(
		middleware.Hooks{Admit: middleware.Auth(middleware.AuthOptions{
			Verify:  verify,
			Sources: []middleware.Source{middleware.FromQuery("token")},
		})},
		middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerMinute(1)}),
	)
	hub := core.NewHub(mw.Apply(core.Options{Handler: core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
		return []core.Message{{Content: fmt.Sprintf("hello %v", req.Principal)}}, nil
	})}))
	srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{})) // nothing else to pass
	defer srv.Close()
	defer hub.Shutdown(context.Background())
	endpoint := "ws" + strings.TrimPrefix(srv.URL, "http")

	_, resp, err := websocket.DefaultDialer.Dial(endpoint+"?token=wrong", nil)
	fmt.Println("wrong token:", resp.StatusCode, err != nil)

	ws, _, err := websocket.DefaultDialer.Dial(endpoint+"?"+url.Values{"token": {"s3cret"}}.Encode(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	var welcome core.Message // the first frame: the welcome, naming the session
	if err := ws.ReadJSON(&welcome); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s\n", welcome.Type, welcome.Content)
	for range 2 {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","content":"hi"}`))
		var reply core.Message
		if err := ws.ReadJSON(&reply); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", reply.Type, reply.Content)
	}
	// Output:
	// wrong token: 401 true
	// system: connected
	// message: hello alice
	// error: Rate limit exceeded; message dropped
}
