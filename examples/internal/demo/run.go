package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/chatwire/chatwire/core"
)

// ShutdownTimeout bounds the graceful shutdown after SIGINT or SIGTERM.
const ShutdownTimeout = 10 * time.Second

// ListenAndServe serves handler on addr until SIGINT or SIGTERM, then closes every chat
// connection of hub (clients reconnect elsewhere) and stops the server. It prints the
// address it serves.
func ListenAndServe(addr string, handler http.Handler, hub *core.Hub) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return ServeUntil(ctx, addr, handler, hub)
}

// ServeUntil serves handler on addr until ctx ends, then shuts hub and the server down
// gracefully within ShutdownTimeout.
func ServeUntil(ctx context.Context, addr string, handler http.Handler, hub *core.Hub) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("chatwire example serving on http://%s (chat endpoint /chat)\n", displayAddr(ln.Addr()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	// Hijacked WebSocket connections are not tracked by http.Server: close them first.
	herr := hub.Shutdown(sctx)
	serr := srv.Shutdown(sctx)
	<-errc
	return errors.Join(herr, serr)
}

// displayAddr shows a wildcard listen address as localhost, so the printed URL opens.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
