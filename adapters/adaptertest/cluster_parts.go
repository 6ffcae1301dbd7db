package adaptertest

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/core"
)

func partsClusterCases() []clusterCase {
	return []clusterCase{
		{"PartsResumeOnOtherInstance", func(t *testing.T, mount Mount, newStore StoreFactory) {
			bot := &partsBot{gate: make(chan struct{}), deltas: 100}
			in := twoInstances(t, mount, newStore, core.Options{Handler: bot})
			q := url.Values{"sessionId": {"parts-x"}}
			a := Dial(t, in[0].url, q, nil)
			a.Send(core.Message{ID: "ask", Type: core.TypeMessage, Content: "world"})
			first := &partsView{t: t}
			for first.parts == nil || !strings.HasSuffix(first.parts.Text(), "Hello") {
				first.apply(a.Read())
			}
			_ = a.Conn.Close() // reconnect to the other instance mid-reply
			b := Dial(t, in[1].url, q, nil)
			v := &partsView{t: t}
			for v.frames == 0 {
				v.apply(b.Read())
			}
			if v.resumes != 1 {
				t.Fatalf("the first stream frame on the other instance is not a resume frame")
			}
			if got, want := partsJSON(t, v.parts.Parts()), partsJSON(t, first.parts.Parts()); got != want {
				t.Fatalf("resumed parts\n%s\nwant\n%s", got, want)
			}
			if v.meta.ReplyTo != "" && v.meta.ReplyTo != "ask" {
				t.Fatalf("replyTo %q", v.meta.ReplyTo)
			}
			close(bot.gate)
			v.read(b)
			v.checkAssembled(first.parts.Text() + ", world")
			if v.meta.ReplyTo != "ask" {
				t.Fatalf("final replyTo %q, want ask", v.meta.ReplyTo)
			}
		}},
	}
}
