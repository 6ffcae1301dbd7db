package wsecho_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/chatwire/chatwire/adapters/wsecho"
	"github.com/chatwire/chatwire/core"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// NewHub, mounted with wsecho on an Echo route: a client connects, sends one envelope
// and reads the reply.
func ExampleNew() {
	hub := core.NewHub(core.Options{Handler: core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
		return []core.Message{{Content: "Echo: " + req.Message.Content}}, nil
	})})
	e := echo.New()
	e.GET("/chat", wsecho.New(hub, wsecho.Options{}))
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer hub.Shutdown(context.Background()) // before srv.Close: chat connections are the hub's

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/chat", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()
	var welcome core.Message // the first frame: the welcome, naming the session
	if err := ws.ReadJSON(&welcome); err != nil {
		log.Fatal(err)
	}
	fmt.Println(welcome.Type, welcome.Content)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","content":"hi"}`)); err != nil {
		log.Fatal(err)
	}
	var reply core.Message
	if err := ws.ReadJSON(&reply); err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply.Role, reply.Content)
	// Output:
	// system connected
	// assistant Echo: hi
}
