package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// ShutdownTimeout bounds the graceful drain after SIGINT or SIGTERM.
const ShutdownTimeout = 10 * time.Second

// ReadyPath is where every example serves its readiness endpoint: 200 while serving, 503
// from the moment a drain starts.
const ReadyPath = "/readyz"

// ServeOptions tunes Serve. The zero value is what ListenAndServe uses.
type ServeOptions struct {
	// DrainDelay is how long readiness reports 503 before connections are closed, so a
	// load balancer stops routing here first. Default: 0.
	DrainDelay time.Duration
	// DrainTimeout bounds the drain. Default: ShutdownTimeout.
	DrainTimeout time.Duration
}

// ListenAndServe is Serve with the zero ServeOptions.
func ListenAndServe(addr string, handler http.Handler, hub *core.Hub) error {
	return Serve(addr, handler, hub, ServeOptions{})
}

// Serve serves handler on addr, with the readiness endpoint at ReadyPath, until SIGINT or
// SIGTERM. Then it drains (see middleware.Drainer): readiness turns 503, every chat
// connection of hub is closed with 1012 (service restart) so clients resume on another
// instance, and the server stops. It prints the address it serves.
func Serve(addr string, handler http.Handler, hub *core.Hub, opts ServeOptions) error {
	return serve(context.Background(), addr, handler, hub, opts, true)
}

// ServeUntil is Serve without signal handling: it drains when ctx ends.
func ServeUntil(ctx context.Context, addr string, handler http.Handler, hub *core.Hub) error {
	return serve(ctx, addr, handler, hub, ServeOptions{}, false)
}

func serve(ctx context.Context, addr string, handler http.Handler, hub *core.Hub, opts ServeOptions, signals bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	timeout := opts.DrainTimeout
	if timeout <= 0 {
		timeout = ShutdownTimeout
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	drainer := middleware.NewDrainer(hub, middleware.DrainOptions{Server: srv, Delay: opts.DrainDelay, Timeout: timeout})
	mux := http.NewServeMux()
	mux.Handle(ReadyPath, drainer.Ready())
	mux.Handle("/", handler)
	srv.Handler = mux
	fmt.Printf("chatwire example: open http://%s/ (chat endpoint /chat, readiness %s)\n", DisplayAddr(ln.Addr()), ReadyPath)

	if signals {
		stop := drainer.Notify() // SIGTERM and SIGINT start the drain
		defer stop()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }() // waited for below
	var serr error
	select {
	case serr = <-errc: // the server failed, or a signal's drain shut it down
		if !errors.Is(serr, http.ErrServerClosed) {
			return serr
		}
	case <-ctx.Done():
	case <-drainer.Done():
	}
	derr := drainer.Drain(context.Background()) // drains, or returns the signal's drain result
	if serr == nil {
		serr = <-errc
	}
	if !errors.Is(serr, http.ErrServerClosed) {
		return errors.Join(derr, serr)
	}
	return derr
}

// DisplayAddr shows a wildcard listen address as localhost, so the printed URL opens.
func DisplayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return fmt.Sprintf("localhost:%d", tcp.Port)
}
