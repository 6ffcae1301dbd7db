// Command cluster runs two instances of the chatwire echo bot on two ports, sharing one Redis
// store, as two processes behind a load balancer would: open the page on both ports with the
// same ?sessionId= and every message shows up on both, whichever instance received it; a
// page opened later on either port replays the whole history. Each instance serves what
// examples/nethttp serves (demo.Routes): a useChat reply started on one port resumes on the
// other (GET /api/chat/{id}/stream) and stops from either (POST /api/chat/{id}/stop).
//
//	go run ./examples/cluster                      # embedded miniredis, 127.0.0.1:8080 and :8081
//	go run ./examples/cluster -redis redis://localhost:6379/0 -stream
package main

import (
	"errors"
	"flag"
	"log"
	"sync"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
)

func main() {
	flags := demo.RegisterFlags(nil)
	addr2 := flag.String("addr2", "127.0.0.1:8081", "address of the second instance (loopback only by default)")
	flag.Parse()

	url := flags.Redis
	if url == "" {
		u, stop, err := demo.EmbeddedRedis()
		if err != nil {
			log.Fatal(err)
		}
		defer stop()
		url = u
		log.Printf("no -redis given: using an embedded miniredis at %s", url)
	}

	// Each instance drains on SIGINT/SIGTERM by itself (closing its clients with 1012).
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, addr := range []string{flags.Addr, *addr2} {
		// Each instance has its own store client, as two processes would.
		store, closeStore, err := demo.OpenRedisStore(url)
		if err != nil {
			log.Fatal(err)
		}
		defer closeStore()
		hub := core.NewHub(flags.HubOptions(flags.Bot(), store, demo.Logger().With("instance", i+1)))
		mux := demo.Routes(hub, demo.RouteOptions{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = demo.ListenAndServe(addr, mux, hub); errs[i] != nil {
				log.Printf("instance %d: %v", i+1, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		log.Print(err)
	}
}
