package redisstore_test

import (
	"net/url"
	"testing"
	"time"
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
)

type slowHandler struct{ gate chan struct{} }

func (h *slowHandler) ServeChat(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	s, err := w.Stream(ctx)
	if err != nil {
		return err
	}
	_ = s.Delta(ctx, "partial ")
	_ = s.Delta(ctx, "text")
	<-h.gate
	return s.Close(ctx)
}

func TestZZDebug(t *testing.T) {
	for round := 0; round < 30; round++ {
		mr, _ := newMiniredis(t)
		g := &slowHandler{gate: make(chan struct{})}
		var urls [2]string
		prefix := "p" + core.NewID() + ":"
		for i := range urls {
			c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { _ = c.Close() })
			st := newStore(t, c, redisstore.Options{Prefix: prefix})
			h := core.NewHub(core.Options{Store: st, Handler: g})
			t.Cleanup(func() { close(g.gate); h.Shutdown(context.Background()) })
			urls[i] = mountWS(t, h, adaptertest.Config{})
			break
		}
		_ = urls
		c2 := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = c2.Close() })
		st2 := newStore(t, c2, redisstore.Options{Prefix: prefix})
		h2 := core.NewHub(core.Options{Store: st2, Handler: g})
		t.Cleanup(func() { h2.Shutdown(context.Background()) })
		urls[1] = mountWS(t, h2, adaptertest.Config{})
		q := url.Values{"sessionId": {"cancel-x"}}
		a := adaptertest.Dial(t, urls[0], q, nil)
		b := adaptertest.Dial(t, urls[1], q, nil)
		a.Send(core.Message{ID: "go", Type: core.TypeMessage, Content: "go"})
		var got []string
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			_ = b.Conn.SetReadDeadline(time.Now().Add(time.Second))
			_, f, err := b.Conn.ReadMessage()
			if err != nil {
				break
			}
			got = append(got, string(f))
			var m core.Message
			if core.Decode(f, &m) == nil && (m.Content == "text" || m.Content == "partial text") {
				break
			}
		}
		if len(got) < 3 || true {
			t.Logf("round %d: b got %q", round, got)
		}
	}
}
