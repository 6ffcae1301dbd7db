package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
)

// sidebarJS returns the sidebar as [{id, title, active, running}].
const sidebarJS = `[...document.querySelectorAll("#conversations li")].map(li => ({
	ID: li.dataset.id, Title: (li.querySelector(".title") || {}).textContent || "",
	Active: li.classList.contains("active"), Running: !!li.querySelector(".running") }))`

type sideItem struct {
	ID, Title       string
	Active, Running bool
}

// The conversation sidebar in two browser windows of one user (one owner: the device cookie),
// each on its own instance sharing a store: new chat, title from the first message, rename,
// running indicator, switch, delete — every change shows in the other window.
func TestBrowserSidebarTwoWindowsTwoInstances(t *testing.T) {
	ctx := browser(t)
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	a := serve(t, "127.0.0.1:0", store)
	b := serve(t, "127.0.0.1:0", store)
	defer func() {
		for _, in := range []*instance{a, b} {
			if err := in.stop()(); err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	}()
	dir := artifacts(t)
	w1 := &page{t: t, ctx: ctx, dir: dir}
	w2 := &page{t: t, ctx: browser(t), dir: dir}

	w1.do("open window 1 on instance A", chromedp.Navigate("http://"+a.addr+"/"))
	w1.until("connected", `document.querySelector("#state").dataset.state === "connected"`)
	w1.until("the sidebar with this conversation", `document.querySelectorAll("#conversations li.active").length === 1`)
	first := eval[string](w1, `window.chat.sessionId`)

	// Window 2 is another browser process of the same user: it carries window 1's device
	// cookie (the owner of the sidebar without sign-in).
	device := eval[string](w1, `localStorage.getItem("chatwire.device")`)
	w2.do("open window 2 on instance B",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: demo.DeviceCookie, Value: device, URL: "http://" + b.addr + "/"})
			return err
		}),
		chromedp.Navigate("http://"+b.addr+"/"))
	w2.until("connected", `document.querySelector("#state").dataset.state === "connected"`)
	w2.until("both conversations in window 2", `document.querySelectorAll("#conversations li").length === 2`)
	second := eval[string](w2, `window.chat.sessionId`)
	if first == second {
		t.Fatal("the two windows share a session; each should have started its own")
	}
	w1.until("window 2's conversation in window 1", fmt.Sprintf(`!!document.querySelector('#conversations li[data-id=%q]')`, second))

	// The first message titles the conversation; the other window sees it.
	w1.ask("plan a trip to Lisbon")
	w2.until("the title in window 2", fmt.Sprintf(`(document.querySelector('#conversations li[data-id=%q] .title') || {}).textContent === "plan a trip to Lisbon"`, first))
	w2.until("the running indicator in window 2", fmt.Sprintf(`!!document.querySelector('#conversations li[data-id=%q] .running')`, first))
	w1.shot("sidebar-01-window1-streaming")
	w2.shot("sidebar-02-window2-sees-running")

	// Rename in window 2 (instance B) reaches window 1 (instance A).
	w2.do("rename in window 2",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#conversations li[data-id=%q] .rename`, first))),
		chromedp.SendKeys(chromedp.CSS("#conversations input"), "\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\bLisbon\r"),
	)
	w1.until("the new title in window 1", fmt.Sprintf(`(document.querySelector('#conversations li[data-id=%q] .title') || {}).textContent === "Lisbon"`, first))

	// Window 2 switches to the first conversation over its connection: the history and the
	// running reply show, without a reconnect.
	conns := eval[string](w2, `window.chat.connectionId`)
	w2.do("switch window 2", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#conversations li[data-id=%q] .title`, first))))
	w2.until("the switch", fmt.Sprintf(`window.chat.sessionId === %q`, first))
	w2.until("the question in window 2's log", `[...document.querySelectorAll("#log .msg.user")].some(el => el.textContent.includes("plan a trip to Lisbon"))`)
	w2.until("the reply in window 2's log", `document.querySelectorAll("#log .msg.stream").length === 1`)
	if got := eval[string](w2, `window.chat.connectionId`); got != conns {
		t.Fatalf("the switch reconnected (connection %s, then %s)", conns, got)
	}
	w2.until("the reply to end", `document.querySelector("#log .msg.stream").dataset.streamState === "done"`)
	w1.until("the running indicator to go", fmt.Sprintf(`!document.querySelector('#conversations li[data-id=%q] .running')`, first))
	w2.shot("sidebar-03-window2-switched")

	// New chat in window 1, then delete window 2's first conversation from window 1.
	w1.do("new chat in window 1", chromedp.Click(chromedp.CSS("#new-chat")))
	w1.until("three conversations", `document.querySelectorAll("#conversations li").length === 3`)
	w2.until("three conversations in window 2", `document.querySelectorAll("#conversations li").length === 3`)
	if eval[string](w1, `window.chat.sessionId`) == first {
		t.Fatal("New chat did not switch window 1")
	}
	if eval[int](w1, `document.querySelectorAll("#log .msg").length`) != 0 {
		t.Fatal("the new chat's log is not empty")
	}
	del := fmt.Sprintf(`#conversations li[data-id=%q] .delete`, second)
	w1.do("delete (twice: confirm)", chromedp.Click(chromedp.CSS(del)), chromedp.Click(chromedp.CSS(del)))
	for _, w := range []*page{w1, w2} {
		w.until("the deletion", fmt.Sprintf(`!document.querySelector('#conversations li[data-id=%q]')`, second))
	}
	items := eval[[]sideItem](w2, sidebarJS)
	if len(items) != 2 || !items[1].Active || items[1].ID != first || items[1].Title != "Lisbon" {
		t.Fatalf("window 2's sidebar: %+v; want the new chat and the active 'Lisbon'", items)
	}
	w1.shot("sidebar-04-window1-after-delete")
	w2.shot("sidebar-05-window2-after-delete")
	owner := "device:" + device
	if _, err := store.GetConversation(context.Background(), owner, second); !errors.Is(err, core.ErrConversationNotFound) {
		t.Fatalf("the deleted conversation is still in the store: %v", err)
	}
	if conv, err := store.GetConversation(context.Background(), owner, first); err != nil || conv.Title != "Lisbon" || conv.Running {
		t.Fatalf("the remaining conversation in the store: %+v, %v", conv, err)
	}
}

// A user with more conversations than one page sees the newest page, and the rest with
// "Older chats…".
func TestBrowserSidebarLoadsOlderPages(t *testing.T) {
	ctx := browser(t)
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	a := serve(t, "127.0.0.1:0", store)
	defer func() {
		if err := a.stop()(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	device := core.NewID()
	owner := "device:" + device
	const older = core.DefaultConversationPage + 7
	base := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; i < older; i++ {
		conv := core.Conversation{ID: fmt.Sprintf("old-%03d", i), Title: fmt.Sprintf("chat %03d", i), Created: base + int64(i)}
		if _, _, err := store.CreateConversation(context.Background(), owner, conv, 0); err != nil {
			t.Fatal(err)
		}
	}
	p := &page{t: t, ctx: ctx, dir: artifacts(t)}
	p.do("open the page as the device that owns them",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: demo.DeviceCookie, Value: device, URL: "http://" + a.addr + "/"})
			return err
		}),
		chromedp.Navigate("http://"+a.addr+"/"))
	p.until("the first page", fmt.Sprintf(`document.querySelectorAll("#conversations li").length === %d`, core.DefaultConversationPage))
	if eval[bool](p, `document.querySelector("#more-chats").hidden`) {
		t.Fatal("no way to load older chats")
	}
	p.do("load older chats", chromedp.Click(chromedp.CSS("#more-chats")))
	p.until("every conversation", fmt.Sprintf(`document.querySelectorAll("#conversations li").length === %d`, older+1))
	p.until("the button to go", `document.querySelector("#more-chats").hidden`)
	if got := eval[string](p, `[...document.querySelectorAll("#conversations li .title")].at(-1).textContent`); got != "chat 000" {
		t.Fatalf("the oldest listed is %q, want chat 000 (newest first)", got)
	}
	p.shot("sidebar-06-older-pages")
}
