package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chatwire/chatwire/core"
)

// TestBrowserApprovalAndQuestionAcrossReloadAndInstances drives the demo page on two
// instances sharing a store: the fake model asks for approval (the word "approve"); the page
// reloads onto the other instance, shows the request again and approves it there; then the
// fake model asks a question (the word "ask"), answered with the page's small form.
func TestBrowserApprovalAndQuestionAcrossReloadAndInstances(t *testing.T) {
	ctx := browser(t)
	store := core.NewMemoryStore(core.MemoryStoreOptions{})
	a := serve(t, "127.0.0.1:0", store)
	b := serve(t, "127.0.0.1:0", store)
	defer func() { _ = a.stop()(); _ = b.stop()() }()
	session := "e2e-hitl-" + core.NewID()[:8]
	p := &page{t: t, ctx: ctx, dir: artifacts(t)}

	// tool is the state of the roll_die part of the reply with the given index.
	tool := func(i int) string {
		return `(() => { const m = document.querySelectorAll(".msg.stream")[` + string(rune('0'+i)) + `]; const n = m && m.querySelector(".part.tool"); return n ? n.dataset.state : "" })()`
	}
	button := func(text string) string {
		return `[...document.querySelectorAll(".part.tool button, .part.question button")].find((b) => b.textContent === "` + text + `")`
	}

	p.do("open the page on A", chromedp.Navigate("http://"+a.addr+"/?sessionId="+session))
	p.until("connected", `document.querySelector("#state").dataset.state === "connected"`)
	p.ask("roll the die if I approve")
	p.until("the approval request", tool(0)+` === "approval-requested" && !!`+button("Approve"))
	p.shot("hitl-01-approval-asked")

	// A reload onto the other instance: the request is still there, with its buttons.
	p.do("reload on B", chromedp.Navigate("http://"+b.addr+"/?sessionId="+session))
	p.until("connected to B", `document.querySelector("#state").dataset.state === "connected"`)
	p.until("the request again on B", tool(0)+` === "approval-requested" && !!`+button("Approve"))
	p.do("approve", chromedp.Evaluate[chromedp.Void](button("Approve")+`.click()`))
	p.until("the tool ran and the reply ended", tool(0)+` === "output-available" && document.querySelectorAll(".msg.stream")[0].dataset.streamState === "done"`)
	if got := eval[string](p, `document.querySelectorAll(".msg.stream")[0].querySelector(".part.tool").textContent`); !containsAll(got, "roll_die", "approved") {
		t.Fatalf("tool part after approval: %q", got)
	}
	p.shot("hitl-02-approved")

	// A question, answered with the form.
	p.ask("please ask me first")
	p.until("the question's form", `!!document.querySelectorAll(".msg.stream")[1]?.querySelector(".part.question form input")`)
	p.do("answer 20 sides", chromedp.Evaluate[chromedp.Void](
		`(() => { const f = document.querySelectorAll(".msg.stream")[1].querySelector(".part.question form"); f.querySelector("input").value = "20"; f.requestSubmit(); })()`))
	p.until("the reply ended", `document.querySelectorAll(".msg.stream")[1]?.dataset.streamState === "done"`)
	if got := eval[string](p, `document.querySelectorAll(".msg.stream")[1].querySelector(".part.tool").textContent`); !containsAll(got, `{"sides":20}`) {
		t.Fatalf("tool part after the answer: %q", got)
	}
	if got := eval[string](p, `document.querySelectorAll(".msg.stream")[1].querySelector(".part.question").textContent`); !containsAll(got, "answered", "20") {
		t.Fatalf("question part after the answer: %q", got)
	}
	p.shot("hitl-03-answered")
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
