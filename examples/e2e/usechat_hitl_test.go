package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chatwire/chatwire/core"
)

// TestUseChatPageApproval drives the useChat page (stock useChat, ai 6) through a tool
// approval on each transport: the fake model asks (the word "approve"), the page is reloaded
// onto the other instance, shows the waiting call with Approve / Deny, and approving it
// (addToolApprovalResponse + sendAutomaticallyWhen) continues the same message to its end.
func TestUseChatPageApproval(t *testing.T) {
	for _, mode := range []string{"ws", "sse"} {
		t.Run(mode, func(t *testing.T) {
			ctx := browser(t)
			c := startCluster(t)
			chatID := "usechat-approve-" + mode + "-" + core.NewID()[:8]
			p := &page{t: t, ctx: ctx, dir: artifacts(t)}
			pageURL := func(in *instance) string {
				return "http://" + in.addr + "/usechat/?transport=" + mode + "&chatId=" + chatID
			}
			const readyJS = `document.querySelector("#status") !== null && document.querySelector("#status").dataset.status === "ready"`
			const toolJS = `(() => { const n = document.querySelector(".msg.assistant .part.tool"); return n ? n.dataset.state : "" })()`

			p.do("open the page on A", chromedp.Navigate(pageURL(c.a)))
			p.until("the page", readyJS)
			p.ask("roll the die if I approve")
			p.until("the approval request", toolJS+` === "approval-requested" && !!document.querySelector(".msg.assistant button.approve") && `+readyJS)
			p.shot(fmt.Sprintf("usechat-%s-approval-01-asked", mode))
			replyID := eval[string](p, `document.querySelector(".msg.assistant").dataset.id`)

			p.do("reload on B", chromedp.Navigate(pageURL(c.b)))
			p.until("the page on B", readyJS)
			p.until("the request again on B", toolJS+` === "approval-requested" && !!document.querySelector(".msg.assistant button.approve")`)
			p.do("approve", chromedp.Click(chromedp.CSS(".msg.assistant button.approve")))
			p.until("the tool ran and the reply ended", toolJS+` === "output-available" && `+readyJS+` && `+lastReplyTextJS+` > 100`)
			p.shot(fmt.Sprintf("usechat-%s-approval-02-approved", mode))
			msgs := eval[[]uiMessage](p, uiMessagesJS)
			if len(msgs) != 2 || msgs[1].ID != replyID {
				t.Fatalf("after the approval the page shows %+v; want the user message and the same reply %s", msgs, replyID)
			}
			stored, ok := storedReply(t, c.store, chatID, replyID)
			if !ok || streamState(stored) != core.StreamStateDone || !strings.Contains(stored.Content, "The die shows") {
				t.Fatalf("stored reply %v %q (%s)", ok, stored.Content, stored.Metadata)
			}
			if got := eval[string](p, `[...document.querySelectorAll(".msg.assistant .part.text")].map(p => p.textContent).join("")`); got != stored.Content {
				t.Fatalf("the page shows %q, stored %q", got, stored.Content)
			}
		})
	}
}
