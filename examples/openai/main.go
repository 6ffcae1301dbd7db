// Command openai serves chatwire with a real model behind it: any OpenAI-compatible
// chat-completions endpoint (OpenAI, Ollama, vLLM, ...), reached through the official Go SDK
// (github.com/openai/openai-go). Replies stream the model's reasoning (from servers that send
// it), its tool calls (the input as it streams in, then the tool's output, then the next model
// step) and its text. The tool is a calculator that runs here, offline.
//
//	OPENAI_API_KEY=sk-... go run . -model gpt-4o-mini
//	go run . -base-url http://localhost:11434/v1 -model qwen3           # Ollama
//	go run . -base-url http://localhost:8000/v1 -model Qwen/Qwen3-8B    # vLLM
//
// Like the other examples it serves chatwire's WebSocket endpoint at /chat, the AI SDK's
// UI message stream over SSE at /api/chat (resume: GET /api/chat/{id}/stream, stop: POST
// /api/chat/{id}/stop), the demo page at /, the useChat page at /usechat/ and the browser
// client at /chatwire.js. It is a module of its own, so users of the library
// never download the SDK.
package main

import (
	"cmp"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// config is what the command's flags and environment choose.
type config struct {
	BaseURL     string        // default: $OPENAI_BASE_URL, else the OpenAI API
	Model       string        // default: $OPENAI_MODEL, else gpt-4o-mini
	APIKey      string        // default: $OPENAI_API_KEY
	MaxRetries  int           // retries of a failed model call (429, 5xx, network); 0: none (the flag's default is 2)
	HTTPClient  *http.Client  // default: http.DefaultClient
	StepTimeout time.Duration // bound of one model call; 0: Model's default (2 minutes)
	Store       core.Store
	Logger      *slog.Logger
}

func main() {
	addr := flag.String("addr", demo.DefaultAddr, "address to listen on (loopback only by default; e.g. :8080 listens on every interface)")
	redisURL := flag.String("redis", "", "Redis URL for persistent, multi-instance sessions; empty uses the in-memory store")
	cfg := config{}
	flag.StringVar(&cfg.BaseURL, "base-url", cmp.Or(os.Getenv("OPENAI_BASE_URL"), "https://api.openai.com/v1"), "OpenAI-compatible API base URL (env OPENAI_BASE_URL); Ollama: http://localhost:11434/v1")
	flag.StringVar(&cfg.Model, "model", cmp.Or(os.Getenv("OPENAI_MODEL"), "gpt-4o-mini"), "model name (env OPENAI_MODEL)")
	flag.StringVar(&cfg.APIKey, "api-key", "", "API key; prefer the environment variable OPENAI_API_KEY, which is used when this is empty (flags show in process lists)")
	flag.IntVar(&cfg.MaxRetries, "max-retries", 2, "retries of a model call that failed with 429, 5xx or a network error")
	flag.DurationVar(&cfg.StepTimeout, "step-timeout", 2*time.Minute, "bound of one model call (a reply may make several: tool calls, then the answer)")
	flag.Parse()
	cfg.APIKey = cmp.Or(cfg.APIKey, os.Getenv("OPENAI_API_KEY"))

	var err error
	closeStore := func() error { return nil }
	if *redisURL == "" {
		cfg.Store = core.NewMemoryStore(core.MemoryStoreOptions{})
	} else if cfg.Store, closeStore, err = demo.OpenRedisStore(*redisURL); err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	cfg.Logger = demo.Logger()
	handler, hub := newServer(cfg)
	if err := demo.Serve(*addr, handler, hub, demo.ServeOptions{}); err != nil {
		log.Print(err)
	}
}

// newModel builds the handler: the SDK client for cfg's endpoint and the calculator tool.
func newModel(cfg config) *Model {
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithMaxRetries(max(cfg.MaxRetries, 0)),
	}
	// Set even when empty (Ollama and vLLM need no key): the SDK would otherwise read
	// OPENAI_API_KEY and OPENAI_BASE_URL by itself, so only what cfg chose is used (tests
	// never send a developer's key to their stub).
	opts = append(opts, option.WithAPIKey(cfg.APIKey))
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Model{
		Client:      openai.NewClient(opts...),
		Model:       cfg.Model,
		Tools:       []Tool{Calculator()},
		StepTimeout: cfg.StepTimeout,
		Store:       cfg.Store,
		Logger:      cfg.Logger,
	}
}

// newServer returns the example's routes and the hub behind them.
func newServer(cfg config) (http.Handler, *core.Hub) {
	hub := core.NewHub(core.Options{Handler: newModel(cfg), Store: cfg.Store, Logger: cfg.Logger})
	return demo.Routes(hub, demo.RouteOptions{Logger: cfg.Logger}), hub
}
