package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chromedp/chromedp"
)

// cluster is two instances of the nethttp example with -stream, in process, sharing one
// Redis (the example's embedded miniredis): what a load balancer in front of two processes
// gives a browser.
type cluster struct {
	a, b  *instance
	store core.Store // a client of the shared Redis, to read what the instances stored
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	url, stopRedis, err := demo.EmbeddedRedis()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopRedis)
	open := func() core.Store {
		st, closeStore, err := demo.OpenRedisStore(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeStore() })
		return st
	}
	c := &cluster{a: serveMux(t, open()), b: serveMux(t, open()), store: open()}
	t.Cleanup(func() {
		wa, wb := c.a.stop(), c.b.stop()
		if err := wa(); err != nil {
			t.Errorf("stop a: %v", err)
		}
		if err := wb(); err != nil {
			t.Errorf("stop b: %v", err)
		}
	})
	return c
}

// serveMux serves the examples' routes (demo.Routes: the chat WebSocket at /chat, the AI SDK
// endpoint at /api/chat, the pages and chatwire.js) on a random loopback port.
func serveMux(t *testing.T, store core.Store) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("nethttp", flag.ContinueOnError)
	flags := demo.RegisterFlags(fs)
	if err := fs.Parse([]string{"-stream"}); err != nil {
		t.Fatal(err)
	}
	hub := core.NewHub(flags.HubOptions(flags.Bot(), store, nil))
	mux := demo.Routes(hub, demo.RouteOptions{})
	in := &instance{addr: ln.Addr().String(), hub: hub, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { in.done <- in.srv.Serve(ln) }() // owned by the instance: stop waits for it
	return in
}

// uiMessage is what the useChat page shows of one message.
type uiMessage struct {
	ID, Role, State string
	Parts           []string // part kinds in order: "text", "reasoning", "tool", "source-url", ...
	Text            string   // the text parts joined
	Reasoning       string
}

const uiMessagesJS = `[...document.querySelectorAll("#log > .msg")].map(el => ({
	ID: el.dataset.id, Role: el.dataset.role, State: el.dataset.state || "",
	Parts: [...el.querySelectorAll(":scope > .part")].map(p => p.dataset.part === "tool" ? "tool" : p.dataset.part),
	Text: [...el.querySelectorAll(":scope > .part.text")].map(p => p.textContent).join(""),
	Reasoning: [...el.querySelectorAll(":scope > .part.reasoning .reasoning-text")].map(p => p.textContent).join(""),
}))`

// lastReplyTextJS is the length of the text of the last assistant message on the page.
const lastReplyTextJS = `(() => { const m = [...document.querySelectorAll("#log > .msg.assistant")].pop(); return m ? [...m.querySelectorAll(":scope > .part.text")].map(p => p.textContent).join("").length : 0 })()`

// storedReply returns the stored assistant message of session with the given id.
func storedReply(t *testing.T, store core.Store, session, id string) (core.Message, bool) {
	t.Helper()
	for _, m := range history(t, store, session) {
		if m.ID == id {
			return m, true
		}
	}
	return core.Message{}, false
}

func streamState(m core.Message) core.StreamStatus {
	var md struct {
		Stream struct {
			State core.StreamStatus `json:"state"`
		} `json:"stream"`
	}
	_ = json.Unmarshal(m.Metadata, &md)
	return md.Stream.State
}

// TestUseChatPage drives the useChat page (stock useChat from @ai-sdk/react, built into
// demo's static tree at /usechat/) on each transport: a streamed reply renders; a reload
// on the other instance mid-reply resumes it with no duplicated text or message; Stop ends
// the next reply as cancelled, on the page and in the store.
func TestUseChatPage(t *testing.T) {
	for _, mode := range []string{"ws", "sse"} {
		t.Run(mode, func(t *testing.T) { testUseChatPage(t, mode) })
	}
}

func testUseChatPage(t *testing.T, mode string) {
	ctx := browser(t)
	c := startCluster(t)
	chatID := "usechat-" + mode + "-" + core.NewID()[:8]
	p := &page{t: t, ctx: ctx, dir: artifacts(t)}
	shot := func(name string) { p.shot(fmt.Sprintf("usechat-%s-%s", mode, name)) }
	pageURL := func(in *instance) string {
		return "http://" + in.addr + "/usechat/?transport=" + mode + "&chatId=" + chatID
	}

	const readyJS = `document.querySelector("#status") !== null && document.querySelector("#status").dataset.status === "ready"`
	p.do("open the page on instance A", chromedp.Navigate(pageURL(c.a)))
	p.until("the page", readyJS)
	shot("01-ready")
	var tab2 *page
	if mode == "ws" { // over the WebSocket, a second tab of the chat sees the reply as it streams
		// A second browser rather than a background tab, which headless Chromium does not
		// render (screenshots and animation frames wait for it to be shown).
		tab2 = &page{t: t, ctx: browser(t), dir: p.dir}
		tab2.do("open a second tab on instance B", chromedp.Navigate(pageURL(c.b)))
		tab2.until("the second tab", readyJS)
	}

	// 1. A streamed reply renders as it grows.
	const question = "how does resuming work?"
	p.ask(question)
	p.until("the reply to stream", lastReplyTextJS+` >= 60`)
	shot("02-streaming")
	msgs := eval[[]uiMessage](p, uiMessagesJS)
	if len(msgs) != 2 || msgs[0].Role != "user" || msgs[0].Text != question || msgs[1].Role != "assistant" {
		t.Fatalf("while streaming the page shows %+v", msgs)
	}
	replyID := msgs[1].ID
	// The fake model's reply so far: reasoning, then the roll_die call (inline, finished), a
	// source link, then the text, in that order.
	if got, want := strings.Join(msgs[1].Parts, ","), "reasoning,tool,step-start,source-url,text"; got != want {
		t.Fatalf("the streaming reply shows parts %s, want %s", got, want)
	}
	if msgs[1].Reasoning != strings.Join(demo.Reasoning(question), "") {
		t.Fatalf("reasoning %q", msgs[1].Reasoning)
	}
	if st := eval[string](p, `document.querySelector(".msg.assistant .tool").dataset.state`); st != "output-available" {
		t.Fatalf("the tool call shows state %q", st)
	}
	if href := eval[string](p, `document.querySelector(".msg.assistant a.source").href`); href != demo.FakeSource.URL {
		t.Fatalf("the source links to %q", href)
	}
	if tab2 != nil {
		tab2.until("the second tab to show the reply streaming", `document.querySelector("#status").dataset.status === "streaming" && (`+lastReplyTextJS+`) >= 60`)
		tab2.shot(fmt.Sprintf("usechat-%s-02b-second-tab", mode))
		m2 := eval[[]uiMessage](tab2, uiMessagesJS)
		if len(m2) != 2 || m2[0].Text != question || m2[1].ID != replyID {
			t.Fatalf("the second tab shows %+v", m2)
		}
	}

	// 2. Reload mid-reply, on the other instance: the reply resumes, once.
	p.do("reload on instance B", chromedp.Navigate(pageURL(c.b)))
	p.until("the resumed reply to finish", `document.querySelector("#status") && document.querySelector("#status").dataset.status === "ready" && document.querySelectorAll("#log > .msg.assistant").length > 0`)
	deadline := time.Now().Add(waitTimeout)
	var stored core.Message
	for {
		m, ok := storedReply(t, c.store, chatID, replyID)
		if ok {
			stored = m
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reply %s never stored", replyID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.until("the page to show the whole reply", fmt.Sprintf(`(%s) >= %d`, lastReplyTextJS, len(stored.Content)))
	shot("03-resumed-on-b")
	if tab2 != nil {
		tab2.until("the second tab to finish the reply", readyJS+fmt.Sprintf(` && (%s) >= %d`, lastReplyTextJS, len(stored.Content)))
		if m2 := eval[[]uiMessage](tab2, uiMessagesJS); len(m2) != 2 || m2[1].Text != stored.Content {
			t.Fatalf("the second tab ends with %+v", m2)
		}
	}
	msgs = eval[[]uiMessage](p, uiMessagesJS)
	if len(msgs) != 2 || msgs[0].Text != question || msgs[1].ID != replyID || msgs[1].Text != stored.Content {
		t.Fatalf("after the reload on B the page shows %+v;\nwant the question and reply %s with the stored text %q", msgs, replyID, stored.Content)
	}

	// 3. Stop: the next reply ends cancelled, on the page and in the store.
	const second = "now stop talking"
	p.ask(second)
	p.until("the second reply to stream", fmt.Sprintf(`document.querySelectorAll("#log > .msg.assistant").length === 2 && (%s) >= 30`, lastReplyTextJS))
	p.do("press Stop", chromedp.Click(chromedp.CSS("#stop")))
	p.until("ready after Stop", `document.querySelector("#status").dataset.status === "ready"`)
	p.until("the cancelled badge", `[...document.querySelectorAll("#log > .msg.assistant")].pop().dataset.state === "cancelled"`)
	msgs = eval[[]uiMessage](p, uiMessagesJS)
	cancelled := msgs[len(msgs)-1]
	deadline = time.Now().Add(waitTimeout)
	for {
		m, ok := storedReply(t, c.store, chatID, cancelled.ID)
		if ok {
			if st := streamState(m); st != "cancelled" {
				t.Fatalf("the stopped reply is stored with state %q", st)
			}
			if cancelled.Text == "" || !strings.HasPrefix(m.Content, cancelled.Text) {
				t.Fatalf("stored %q; the page showed %q, which should begin it", m.Content, cancelled.Text)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stopped reply %s never stored", cancelled.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the page would grow here if the reply went on
	shot("04-stopped")
	if n := eval[int](p, lastReplyTextJS); n != len(cancelled.Text) {
		t.Fatalf("the stopped reply grew from %d to %d characters", len(cancelled.Text), n)
	}
	if len(msgs) != 4 {
		t.Fatalf("after Stop the page shows %d messages, want 4: %+v", len(msgs), msgs)
	}
}
