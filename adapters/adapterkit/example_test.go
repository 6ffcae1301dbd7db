package adapterkit_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
)

// myAdapter is a complete adapter for a framework, here plain net/http with
// gorilla/websocket: the framework glue is one Exchange per request.
type myAdapter struct {
	pipeline *adapterkit.Pipeline
	upgrader websocket.Upgrader
}

func (a *myAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = a.pipeline.Serve(&myExchange{a: a, w: w, r: r})
}

type myExchange struct {
	a *myAdapter
	w http.ResponseWriter
	r *http.Request
}

func (x *myExchange) Parts() adapterkit.Parts {
	return adapterkit.Parts{Context: x.r.Context(), Host: x.r.Host, RawQuery: x.r.URL.RawQuery,
		RemoteAddr: x.r.RemoteAddr, Header: x.r.Header.Clone()}
}

func (x *myExchange) Authenticate() (any, error) { return nil, nil } // no hook of its own

func (x *myExchange) Respond(status int, header http.Header, body []byte) error {
	for k, v := range header {
		x.w.Header()[k] = v
	}
	x.w.WriteHeader(status)
	_, err := x.w.Write(body)
	return err
}

func (x *myExchange) Upgrade(subprotocol string, p *adapterkit.Pending) error {
	up := x.a.upgrader
	if subprotocol != "" {
		up.Subprotocols = []string{subprotocol}
	}
	ws, err := up.Upgrade(x.w, x.r, nil)
	if err != nil {
		return err
	}
	go func() { _ = p.Serve(ws) }() // the hub owns and waits for it
	return nil
}

// An adapter for another framework implements Exchange and hands each upgrade request to a
// Pipeline: checks, authentication, the hub's admission, joining the session, the upgrade
// and byte-identical refusals come with it.
func ExamplePipeline() {
	hub := core.NewHub(core.Options{Handler: core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
		return []core.Message{{Content: "Echo: " + req.Message.Content}}, nil
	})})
	adapter := &myAdapter{
		pipeline: adapterkit.New(hub, adapterkit.Options{}),
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}, // the pipeline checked it
	}
	srv := httptest.NewServer(adapter)
	defer srv.Close()
	defer hub.Shutdown(context.Background())

	resp, err := http.Get(srv.URL) // not an upgrade
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d %q\n", resp.StatusCode, body)

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"?sessionId=room-1", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	var welcome core.Message // the first frame: the welcome, naming the session
	if err := ws.ReadJSON(&welcome); err != nil {
		log.Fatal(err)
	}
	fmt.Println(welcome.Type, welcome.Content)
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","content":"hi"}`))
	var reply core.Message
	if err := ws.ReadJSON(&reply); err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.Role, reply.Content)
	// Output:
	// 426 "Expected WebSocket upgrade\n"
	// system connected
	// assistant Echo: hi
}
