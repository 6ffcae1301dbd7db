package demo

import (
	"context"
	"embed"
	"flag"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

//go:embed static
var static embed.FS

// Static serves the demo page at /, the browser client at /chatwire.js and the icon at
// /favicon.svg (and /favicon.ico, which browsers ask for by themselves).
func Static() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			w.Header().Set("Content-Type", "image/svg+xml")
			http.ServeFileFS(w, r, sub, "favicon.svg")
			return
		}
		files.ServeHTTP(w, r)
	})
}

// DefaultAddr is where examples listen unless -addr says otherwise: loopback only, since
// the examples have no authentication by default.
const DefaultAddr = "127.0.0.1:8080"

// Flags are the command-line flags every example accepts.
type Flags struct {
	Addr           string
	Heartbeat      time.Duration
	MaxMessageSize int
	MaxStored      int
	Stream         bool
	WordDelay      time.Duration
	Redis          string
	DrainDelay     time.Duration
}

// RegisterFlags defines the shared flags on fs (flag.CommandLine when nil) and returns
// where their values land after fs.Parse.
func RegisterFlags(set *flag.FlagSet) *Flags {
	if set == nil {
		set = flag.CommandLine
	}
	f := &Flags{}
	set.StringVar(&f.Addr, "addr", DefaultAddr, "address to listen on (loopback only by default; e.g. :8080 listens on every interface)")
	set.DurationVar(&f.Heartbeat, "heartbeat", core.DefaultHeartbeatInterval, "heartbeat interval (0 disables heartbeats)")
	set.IntVar(&f.MaxMessageSize, "max-message-size", core.DefaultMaxMessageSize, "largest inbound frame in bytes")
	set.IntVar(&f.MaxStored, "max-stored", core.DefaultMaxStoredMessages, "messages kept per session for replay")
	set.StringVar(&f.Redis, "redis", "", "Redis URL (redis://host:port/db) for persistent, multi-instance sessions; empty uses the in-memory store")
	set.BoolVar(&f.Stream, "stream", false, "answer with a streaming fake model (reasoning, a tool call, a source, then text word by word) instead of the echo bot")
	set.DurationVar(&f.WordDelay, "word-delay", 40*time.Millisecond, "with -stream, the pause between the fake model's words")
	set.DurationVar(&f.DrainDelay, "drain-delay", 0, "on SIGTERM, report not ready ("+ReadyPath+" 503) this long before closing connections")
	return f
}

// ServeOptions turns the flags into Serve's options.
func (f *Flags) ServeOptions() ServeOptions {
	return ServeOptions{DrainDelay: f.DrainDelay}
}

// HubOptions turns the flags into hub options for handler and store.
func (f *Flags) HubOptions(handler core.Handler, store core.Store, logger *slog.Logger) core.Options {
	hb := f.Heartbeat
	if hb == 0 {
		hb = -1 // the flag's 0 means "disabled"; the option's 0 means "default"
	}
	if store != nil {
		handler = Titled(handler)
	}
	opts := core.Options{
		Handler:           handler,
		Store:             store,
		HeartbeatInterval: hb,
		MaxMessageSize:    f.MaxMessageSize,
		MaxStoredMessages: f.MaxStored,
		Logger:            logger,
	}
	if _, ok := store.(storage.DirectoryStore); ok {
		opts.Conversations = Conversations() // the page's sidebar
	}
	return opts
}

// Bot returns the handler the flags ask for: the streaming FakeModel with -stream, else
// the echo bot.
func (f *Flags) Bot() core.Handler {
	if f.Stream {
		return FakeModel{WordDelay: f.WordDelay}
	}
	return EchoBot()
}

// EchoBot replies "Echo: <content>" as the assistant to every chat message.
func EchoBot() core.Handler {
	return core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		if req.Message.Type != core.TypeMessage {
			return nil
		}
		return w.Send(ctx, core.Message{Type: core.TypeMessage, Role: core.RoleAssistant, Content: "Echo: " + req.Message.Content})
	})
}

// Logger returns the examples' logger (text to stderr, info level).
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
