package wsfiber_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/chatwire/chatwire/adapters/wsfiber"
	"github.com/chatwire/chatwire/core"
	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
)

// NewHub, mounted with wsfiber on a Fiber route: a client connects, sends one envelope and
// reads the reply. ReadTimeout bounds slow upgrade requests (see the package docs).
func ExampleNew() {
	hub := core.NewHub(core.Options{Handler: core.ReplyFunc(func(ctx context.Context, req *core.Request) ([]core.Message, error) {
		return []core.Message{{Content: "Echo: " + req.Message.Content}}, nil
	})})
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second})
	app.Server().MaxIdleWorkerDuration = 50 * time.Millisecond // lets the leak check see the pool end at once
	app.Get("/chat", wsfiber.New(hub, wsfiber.Options{}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	defer func() {
		_ = hub.Shutdown(context.Background()) // chat connections first: they are the hub's
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-served
	}()

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/chat", nil)
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
