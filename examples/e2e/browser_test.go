package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// waitTimeout bounds every wait on the page. A reply streams for about 5 s.
const waitTimeout = 30 * time.Second

// instance is the nethttp example with -stream, in process: the same flags, handler, chat
// endpoint and page, on a store the test provides so that history survives a restart.
type instance struct {
	addr string
	hub  *core.Hub
	srv  *http.Server
	done chan error
}

func serve(t *testing.T, addr string, store core.Store) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	fs := flag.NewFlagSet("nethttp", flag.ContinueOnError)
	flags := demo.RegisterFlags(fs)
	if err := fs.Parse([]string{"-stream"}); err != nil {
		t.Fatal(err)
	}
	hub := core.NewHub(flags.HubOptions(flags.Bot(), store, nil))
	mux := http.NewServeMux()
	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/", demo.Static())
	in := &instance{addr: ln.Addr().String(), hub: hub, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { in.done <- in.srv.Serve(ln) }() // owned by the instance: stop waits for it
	return in
}

// stop does what the example does on SIGTERM: it stops listening, closes every chat
// connection with 1001 and waits for the hub. Replies still streaming finish on this
// instance meanwhile, into the shared store, so clients that reconnect elsewhere see the
// rest. The returned function waits for all that.
func (in *instance) stop() (wait func() error) {
	_ = in.srv.Close() // listener and plain HTTP connections; WebSockets belong to the hub
	errc := make(chan error, 1)
	go func() { // owned by the caller through wait
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		herr := in.hub.Shutdown(ctx)
		serr := <-in.done
		if errors.Is(serr, http.ErrServerClosed) {
			serr = nil
		}
		errc <- errors.Join(herr, serr)
	}()
	return func() error { return <-errc }
}

// browser starts headless Chromium and returns a tab. Without Chromium the test is skipped,
// except in CI (.ci/browser.sh installs it), where it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not found at %s (set CHROMIUM): %v", path, err)
		}
		t.Skipf("chromium not found at %s (set CHROMIUM or run .ci/browser.sh): %v", path, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 700),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	var mu sync.Mutex
	var jsErrors []string
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			d := e.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			mu.Lock()
			jsErrors = append(jsErrors, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, text))
			mu.Unlock()
		}
	}))
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancel()
		cancelAlloc()
		mu.Lock()
		defer mu.Unlock()
		for _, e := range jsErrors {
			t.Errorf("uncaught JavaScript exception: %s", e)
		}
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artifacts is where screenshots go: $ARTIFACTS_DIR, else test-artifacts/browser at the
// repository root (gitignored).
func artifacts(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts", "browser")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// page drives the demo page in one tab.
type page struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.shot("failure")
		p.t.Fatalf("%s: %v", what, err)
	}
}

// until waits for a JavaScript expression to be truthy.
func (p *page) until(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))); err != nil {
		p.shot("failure")
		p.t.Fatalf("wait for %s: %v", what, err)
	}
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot saves a screenshot of the page and prints its path.
func (p *page) shot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

func (p *page) ask(question string) {
	p.t.Helper()
	p.do("ask "+question,
		chromedp.SendKeys(chromedp.CSS("#text"), question),
		chromedp.Click(chromedp.CSS("#send")),
	)
}

// words counts the words of the streamed reply with the given index (0 = first).
func wordsJS(index int) string {
	return fmt.Sprintf(`(() => { const m = document.querySelectorAll(".msg.stream")[%d]; return m ? [...m.querySelectorAll(".parts > .text")].map(t => t.textContent).join("").split(" ").filter(Boolean).length : 0 })()`, index)
}

func TestBrowserStreamSurvivesRestartAndStops(t *testing.T) {
	ctx := browser(t)
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	a := serve(t, "127.0.0.1:0", store)
	waitA := func() error { return nil }
	defer func() { _ = waitA() }()
	base := "http://" + a.addr
	session := "e2e-" + core.NewID()[:8]
	p := &page{t: t, ctx: ctx, dir: artifacts(t)}

	p.do("open the page", chromedp.Navigate(base+"/?sessionId="+session))
	p.until("connected", `document.querySelector("#state").dataset.state === "connected"`)
	// Record whether a stream's text was ever replaced by a resume frame.
	p.do("watch for resume frames", chromedp.Evaluate[chromedp.Void](
		`window.chat.addEventListener("stream", (e) => { if (e.detail.replaced) window.resumedFrames = (window.resumedFrames || 0) + 1; })`))
	p.shot("01-connected")

	// 1. A streamed reply grows, with its tool call, and a Stop button while it runs.
	const question = "how does resuming work?"
	full := strings.Join(demo.Text(question, demo.DieRoll(question), demo.DefaultWords), "")
	p.ask(question)
	p.until("the reply to grow", wordsJS(0)+` >= 15`)
	if !eval[bool](p, `!document.querySelector("#stop").hidden`) {
		t.Fatal("no Stop button while a reply streams")
	}
	p.shot("02-streaming")
	before := eval[int](p, wordsJS(0))

	// 2. The server stops mid-stream. The reply goes on on the old instance (a graceful
	// drain) while the page waits to reconnect.
	waitA = a.stop()
	p.until("the page to notice", `document.querySelector("#state").dataset.state !== "connected"`)
	streamed := func() int { // words the running stream has in the store
		snap, err := store.StreamSnapshot(context.Background(), session)
		if err != nil || len(snap) == 0 {
			return 0
		}
		return len(strings.Fields(snap[0].Content))
	}
	deadline := time.Now().Add(waitTimeout)
	for streamed() < before+10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polls the store; the reply grows at 25 words/s
	}
	p.shot("03-server-down")

	// 3. A new instance on the same address and store: the page resumes.
	b := serve(t, a.addr, store)
	defer func() {
		if err := b.stop()(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	p.until("the reconnect", `document.querySelector("#state").dataset.state === "connected"`)
	p.until("the end of the reply", `document.querySelector(".msg.stream").dataset.streamState === "done"`)
	p.shot("04-resumed-done")
	if n := eval[int](p, `window.resumedFrames || 0`); n != 1 {
		t.Fatalf("the page applied %d resume frames, want 1 (the reconnect during the stream)", n)
	}
	if err := waitA(); err != nil {
		t.Fatalf("first instance: %v", err)
	}
	waitA = func() error { return nil }

	type bubble struct {
		ID, Class, Text, State string
	}
	bubbles := func() []bubble {
		return eval[[]bubble](p, `[...document.querySelectorAll("#log > .msg")].map(el => ({
			ID: el.dataset.id || "", Class: el.className,
			Text: el.querySelector(".parts") ? [...el.querySelectorAll(".parts > .text")].map(t => t.textContent).join("") : el.textContent,
			State: el.dataset.streamState || "" }))`)
	}
	got := bubbles()
	if len(got) != 2 || got[0].Class != "msg user" || got[0].Text != question ||
		got[1].Class != "msg assistant stream" || got[1].State != "done" || got[1].Text != full {
		t.Fatalf("after the restart the log holds %+v;\nwant the question and one assistant message with the whole reply %q", got, full)
	}
	// The reply's parts, in the order the model produced them: reasoning (collapsed once
	// done), the tool call with its result, a step boundary, the source as a link, the text.
	kinds := eval[[]string](p, `[...document.querySelectorAll(".msg.stream .parts > *")].filter(n => !n.hidden).map(n => n.dataset.kind)`)
	if got, want := strings.Join(kinds, ","), "reasoning,tool,step-start,source-url,text"; got != want {
		t.Fatalf("the reply shows parts %s, want %s", got, want)
	}
	if eval[bool](p, `document.querySelector(".msg.stream details.reasoning").open`) {
		t.Fatal("the finished reasoning is not collapsed")
	}
	p.do("open the reasoning", chromedp.Click(chromedp.CSS(".msg.stream details.reasoning summary")))
	if r := eval[string](p, `document.querySelector(".msg.stream details.reasoning").open ? document.querySelector(".msg.stream details.reasoning > div").textContent : ""`); r != strings.Join(demo.Reasoning(question), "") {
		t.Fatalf("the opened reasoning shows %q", r)
	}
	if href := eval[string](p, `document.querySelector(".msg.stream a.source").href`); href != demo.FakeSource.URL {
		t.Fatalf("the source links to %q", href)
	}
	p.shot("04b-reasoning-open")
	if n := eval[int](p, `document.querySelectorAll(".msg.stream .tool").length`); n != 1 {
		t.Fatalf("the reply shows %d tool calls, want 1", n)
	}
	if st := eval[string](p, `document.querySelector(".msg.stream .tool").dataset.state`); st != "output-available" {
		t.Fatalf("the tool call is in state %q, want output-available (its result arrived)", st)
	}
	if !eval[bool](p, `document.querySelector("#stop").hidden`) {
		t.Fatal("the Stop button is still shown after the reply ended")
	}
	var stored int
	for _, m := range history(t, store, session) {
		if m.ID == got[1].ID {
			stored++
		}
	}
	if stored != 1 {
		t.Fatalf("the reply is stored %d times", stored)
	}

	// 4. Stop: the next reply is cancelled and shows it.
	const second = "now stop talking"
	p.ask(second)
	p.until("the second reply to grow", wordsJS(1)+` >= 8`)
	p.shot("05-before-stop")
	p.do("press Stop", chromedp.Click(chromedp.CSS("#stop")))
	p.until("the cancelled state", `document.querySelectorAll(".msg.stream")[1].dataset.streamState === "cancelled"`)
	p.shot("06-cancelled")
	got = bubbles()
	answer := strings.Join(demo.Text(second, demo.DieRoll(second), demo.DefaultWords), "")
	if len(got) != 4 || got[3].State != "cancelled" || got[3].Text == "" || len(got[3].Text) >= len(answer) || !strings.HasPrefix(answer, got[3].Text) {
		t.Fatalf("after Stop the log holds %+v; want the second reply cancelled part-way", got)
	}
	if status := eval[string](p, `document.querySelectorAll(".msg.stream")[1].querySelector(".status").textContent`); status != "cancelled" {
		t.Fatalf("status badge %q", status)
	}
	if !eval[bool](p, `document.querySelector("#stop").hidden`) {
		t.Fatal("the Stop button is still shown after the reply was cancelled")
	}
}

func history(t *testing.T, store core.Store, session string) []core.Message {
	t.Helper()
	page, err := store.Read(context.Background(), session, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]core.Message, len(page.Records))
	for i, r := range page.Records {
		out[i] = r.Message
	}
	return out
}
