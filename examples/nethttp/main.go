// Command nethttp serves the chatwire echo bot from net/http: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL) and a browser
// page at /.
//
//	go run ./examples/nethttp -addr :8080 [-stream] [-redis redis://localhost:6379/0]
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
)

func main() {
	flags := demo.RegisterFlags(nil)
	flag.Parse()

	store, closeStore, err := flags.OpenStore()
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	hub := core.NewHub(flags.HubOptions(flags.Bot(), store, demo.Logger()))

	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/", demo.Static())
	if err := demo.ListenAndServe(flags.Addr, mux, hub); err != nil {
		log.Print(err)
	}
}
