package e2e

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chromedp/chromedp"
)

// authServer is examples/nethttp -auth in process: the example's own token auth (sessions
// belong to their first user), the page, and a switch that makes the chat endpoint fail as
// an outage would (a 503 before the upgrade, which a browser sees as 1006).
type authServer struct {
	addr     string
	hub      *core.Hub
	store    core.Store
	srv      *http.Server
	done     chan error
	attempts atomic.Int32 // upgrade requests at /chat
	down     atomic.Bool  // the endpoint answers 503
	mu       sync.Mutex
	notFound []string // paths answered 404
}

func serveAuth(t *testing.T) *authServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	auth := demo.NewAuth(time.Hour)
	s := &authServer{addr: ln.Addr().String(), store: core.NewMemoryStore(core.MemoryStoreOptions{}), done: make(chan error, 1)}
	s.hub = core.NewHub(auth.Hooks().Apply(core.Options{Handler: demo.EchoBot(), Store: s.store}))
	chat := wshttp.New(s.hub, wshttp.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc(demo.LoginPath, auth.Login)
	mux.Handle("/chat", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.attempts.Add(1)
		if s.down.Load() {
			http.Error(w, "down for the test", http.StatusServiceUnavailable)
			return
		}
		chat.ServeHTTP(w, r)
	}))
	mux.Handle("/", demo.Static())
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		mux.ServeHTTP(rec, r)
		if rec.status == http.StatusNotFound {
			s.mu.Lock()
			s.notFound = append(s.notFound, r.URL.Path)
			s.mu.Unlock()
		}
	})}
	go func() { s.done <- s.srv.Serve(ln) }() // owned by s: the cleanup waits for it
	t.Cleanup(func() {
		_ = s.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := s.hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// statusRecorder remembers the status a handler answered (a hijacked upgrade records none).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Hijack lets the WebSocket upgrade take the connection over.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// noRetries checks that the page made no upgrade attempt for a while: a refusal that will
// not change by itself is not retried.
func (s *authServer) noRetries(t *testing.T, what string) {
	t.Helper()
	before := s.attempts.Load()
	time.Sleep(1500 * time.Millisecond) // several of the page's backoff periods (250 ms, 500 ms, ...)
	if n := s.attempts.Load() - before; n != 0 {
		t.Fatalf("%s: the page retried %d times", what, n)
	}
}

// untilAfterNavigation waits for a JavaScript expression to be truthy on a page that is
// navigating: evaluation errors while the old document goes away are retried.
func (p *page) untilAfterNavigation(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.shot("failure")
	p.t.Fatalf("wait for %s: timed out", what)
}

func TestBrowserRefusalsOutboxAndFailures(t *testing.T) {
	ctx := browser(t)
	s := serveAuth(t)
	base := "http://" + s.addr
	p := &page{t: t, ctx: ctx, dir: artifacts(t)}
	room := "alice-room-" + strings.Repeat("0123456789", 4) // long: the label truncates it visually
	state := func(want string) string { return `document.querySelector("#state").dataset.state === "` + want + `"` }

	// 1. Not signed in: the page says "Sign in", disables Send and stops retrying.
	p.do("open the page", chromedp.Navigate(base+"/?sessionId="+room))
	p.until("the refusal", state("refused"))
	p.until("the sign-in notice", `document.querySelector("#notice").dataset.code === "UNAUTHENTICATED"`)
	p.shot("10-sign-in")
	if got := eval[string](p, `document.querySelector("#notice strong").textContent`); got != "Sign in" {
		t.Fatalf("notice %q, want Sign in", got)
	}
	if !eval[bool](p, `document.querySelector("#send").disabled`) {
		t.Fatal("Send is enabled although the user must sign in")
	}
	s.noRetries(t, "unauthenticated")
	if !eval[bool](p, state("refused")) {
		t.Fatal("the page left the refused state by itself")
	}

	// 2. Sign in as alice: back on the same session, connected, the full id in the DOM.
	p.do("sign in",
		chromedp.SendKeys(chromedp.CSS("#signin-name"), "alice"),
		chromedp.Click(chromedp.CSS("#signin")),
	)
	p.untilAfterNavigation("connected after signing in", `location.pathname === "/" && `+state("connected"))
	if got := eval[string](p, `document.querySelector("#session").textContent`); got != room {
		t.Fatalf("session label %q, want the full id %q", got, room)
	}
	if !eval[bool](p, `(() => { const el = document.querySelector("#session"); return el.scrollWidth > el.clientWidth })()`) {
		t.Fatal("a long session id is not truncated visually")
	}
	if !eval[bool](p, `document.querySelector("#notice").hidden && !document.querySelector("#send").disabled`) {
		t.Fatal("the notice or the disabled Send outlived the sign-in")
	}
	p.ask("hi from alice")
	p.until("the echo", `[...document.querySelectorAll(".msg.assistant")].some(el => el.textContent === "Echo: hi from alice")`)
	p.shot("11-signed-in")

	// 3. Offline: Send stays usable, the message waits in the outbox (labelled, with a hint)
	// and goes out on the reconnect.
	s.down.Store(true)
	connID := eval[string](p, `window.chat.connectionId`)
	if !s.hub.CloseConn(connID, core.CloseServiceRestart, "test outage") {
		t.Fatalf("no connection %q to close", connID)
	}
	p.until("the outage", `document.querySelector("#state").dataset.state !== "connected"`)
	p.ask("sent while offline")
	p.until("the outbox hint", `document.querySelector("#hint").textContent.includes("1 message will be sent")`)
	if got := eval[string](p, `[...document.querySelectorAll(".msg.user.pending")].map(el => el.textContent).join("|")`); got != "sent while offlinewaiting for the connection" {
		t.Fatalf("pending bubbles %q", got)
	}
	p.shot("12-offline-outbox")
	s.down.Store(false)
	p.until("the reconnect", state("connected"))
	p.until("the outbox message's reply", `[...document.querySelectorAll(".msg.assistant")].some(el => el.textContent === "Echo: sent while offline")`)
	if n := eval[int](p, `document.querySelectorAll(".msg.user.pending").length + window.chat.outbox.size`); n != 0 {
		t.Fatalf("%d messages still pending after the reconnect", n)
	}
	sent := 0
	for _, m := range history(t, s.store, room) {
		if m.Content == "sent while offline" {
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("the outbox message is stored %d times", sent)
	}

	// 4. A message too large to send shows as failed, with the reason, and can be dismissed.
	p.do("send a huge message", chromedp.Evaluate[chromedp.Void](`document.querySelector("#text").value = "x".repeat(70000); document.querySelector("#send").click()`))
	p.until("the failed bubble", `document.querySelector(".msg.user.failed") !== null`)
	if got := eval[string](p, `document.querySelector(".msg.user.failed .meta").textContent`); !strings.Contains(got, "Message exceeds maximum size of 65536 bytes (MESSAGE_TOO_LARGE)") {
		t.Fatalf("failed bubble says %q", got)
	}
	p.shot("13-failed-message")
	p.do("dismiss it", chromedp.Click(chromedp.CSS(".msg.user.failed .dismiss")))
	p.until("the failed bubble to go", `document.querySelector(".msg.user.failed") === null`)

	// 5. Bob may not join alice's session: "Not allowed", no retries.
	p.do("sign in as bob on alice's session", chromedp.Navigate(base+demo.LoginPath+"?name=bob&next="+"/%3FsessionId%3D"+room))
	p.untilAfterNavigation("bob's refusal", state("refused"))
	p.until("the not-allowed notice", `document.querySelector("#notice").dataset.code === "SESSION_NOT_FOUND"`)
	if got := eval[string](p, `document.querySelector("#notice strong").textContent`); got != "Not allowed" {
		t.Fatalf("notice %q, want Not allowed", got)
	}
	if !eval[bool](p, `document.querySelector("#send").disabled`) {
		t.Fatal("Send is enabled in a session bob may not join")
	}
	p.shot("14-not-allowed")
	s.noRetries(t, "session not found")

	// 6. A new session: the page connects without an id and shows the one the server made.
	p.do("start a new session", chromedp.Click(chromedp.CSS("#new-session")))
	p.untilAfterNavigation("connected to a new session", `location.search === "" && `+state("connected"))
	p.until("the new session's label", `document.querySelector("#session").textContent !== "" && document.querySelector("#session").textContent !== "`+room+`"`)
	sid := eval[string](p, `document.querySelector("#session").textContent`)
	if !core.ValidSessionID(sid) || eval[string](p, `window.chat.sessionId`) != sid || eval[string](p, `localStorage.getItem("chatwire.session")`) != sid {
		t.Fatalf("new session %q: label, client and storage disagree", sid)
	}
	p.shot("15-new-session")

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.notFound) != 0 {
		t.Fatalf("the page asked for missing files: %v", s.notFound)
	}
}
