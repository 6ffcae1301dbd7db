package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/middleware"
	"github.com/chatwire/chatwire/middleware/metrics"
	"github.com/chatwire/chatwire/storage"
)

const waitTimeout = 5 * time.Second

// value returns the counter or gauge value, or the histogram's sample count, of the series
// name{labels} in reg (0 when absent).
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue series
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func verify(_ context.Context, token string) (any, time.Time, error) {
	if token == "alice-token" {
		return "alice", time.Time{}, nil
	}
	return nil, time.Time{}, errors.New("unknown token")
}

var echoBot = core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
	if req.Message.Type != core.TypeMessage {
		return nil
	}
	return w.Send(ctx, core.Message{Type: core.TypeMessage, Role: core.RoleAssistant, Content: "Echo: " + req.Message.Content})
})

type client struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, ep string, q url.Values, token string) (*client, int) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	c, resp, err := websocket.DefaultDialer.Dial(ep+"?"+q.Encode(), h)
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if c == nil {
		return nil, resp.StatusCode
	}
	t.Cleanup(func() { _ = c.Close() })
	adaptertest.ExpectWelcome(t, c)
	return &client{t, c}, resp.StatusCode
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() core.Message {
	c.t.Helper()
	for {
		_ = c.c.SetReadDeadline(time.Now().Add(waitTimeout))
		_, b, err := c.c.ReadMessage()
		if err != nil {
			c.t.Fatal(err)
		}
		var m core.Message
		if err := envelope.Decode(b, &m); errors.Is(err, envelope.ErrHeartbeat) {
			continue
		} else if err != nil {
			c.t.Fatal(err)
		}
		return m
	}
}

// TestMetricsReflectTraffic drives a hub through wshttp and checks every metric against
// what the test did.
func TestMetricsReflectTraffic(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Fatal("registering twice on one registry succeeded")
	}
	released := make(chan struct{}, 16)
	mw := middleware.Chain(
		m.Hooks(),
		middleware.Hooks{Admit: middleware.Auth(middleware.AuthOptions{Verify: verify})},
		middleware.Hooks{Admit: func(context.Context, *core.AdmitRequest) (core.Admission, error) {
			return core.Admission{Release: func() { released <- struct{}{} }}, nil
		}},
		middleware.RateLimit(middleware.RateLimitOptions{PerConn: middleware.PerMinute(1)}),
	)
	store := m.Store(core.NewMemoryStore(core.MemoryStoreOptions{}))
	hub := core.NewHub(mw.Apply(core.Options{Handler: echoBot, Store: store}))
	srv := httptest.NewServer(wshttp.New(hub, wshttp.Options{}))
	defer func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = hub.Shutdown(ctx)
	}()
	ep := "ws" + strings.TrimPrefix(srv.URL, "http")

	if _, status := dial(t, ep, nil, "forged"); status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", status)
	}
	q := url.Values{"sessionId": {"s1"}}
	a, _ := dial(t, ep, q, "alice-token")
	a.sendRaw(`{"type":"message","content":"hi"}`)
	first := a.read() // the stored message, fanned out
	a.read()          // the echo
	a.sendRaw(`{"type":"message","content":"again"}`)
	if a.read().Type != core.TypeError {
		t.Fatal("want RATE_LIMITED")
	}
	a.sendRaw(`{not json`)
	if a.read().Type != core.TypeError {
		t.Fatal("want INVALID_MESSAGE")
	}
	if got := value(t, reg, "chatwire_connections_open", nil); got != 1 {
		t.Fatalf("connections_open %v while connected, want 1", got)
	}
	_ = a.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	<-released

	b, _ := dial(t, ep, url.Values{"sessionId": {"s1"}, "lastMessageId": {first.ID}}, "alice-token")
	if m := b.read(); m.Content != "Echo: hi" {
		t.Fatalf("replay %+v", m)
	}
	_ = b.c.Close()
	<-released

	cases := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"chatwire_upgrades_refused_total", map[string]string{"status": "401"}, 1},
		{"chatwire_connections_total", nil, 2},
		{"chatwire_connections_open", nil, 0},
		{"chatwire_disconnections_total", map[string]string{"code": "1000"}, 1},
		{"chatwire_disconnections_total", map[string]string{"code": "1006"}, 1},
		{"chatwire_connection_duration_seconds", nil, 2},
		{"chatwire_frames_in_total", map[string]string{"type": "message"}, 2},
		{"chatwire_frames_rejected_total", map[string]string{"code": string(core.CodeRateLimited)}, 1},
		{"chatwire_frames_rejected_total", map[string]string{"code": string(core.CodeInvalidMessage)}, 1},
		{"chatwire_frames_out_total", map[string]string{"type": "message"}, 3}, // stored hi, echo, replayed echo
		{"chatwire_frames_out_total", map[string]string{"type": "error"}, 2},
		{"chatwire_replays_total", nil, 1},
		{"chatwire_replayed_messages", nil, 1},
		{"chatwire_handler_duration_seconds", map[string]string{"outcome": "ok"}, 1},
		{"chatwire_store_duration_seconds", map[string]string{"op": "append", "result": "ok"}, 2},
		{"chatwire_store_duration_seconds", map[string]string{"op": "join", "result": "ok"}, 2}, // one per connection: head, lookup, replay and streams in one call
		{"chatwire_send_failures_total", nil, 0},
	}
	for _, tc := range cases {
		if got := value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if got := value(t, reg, "chatwire_frames_in_bytes_total", nil); got < float64(len(`{"type":"message","content":"hi"}`)) {
		t.Errorf("frames_in_bytes_total %v", got)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}

func TestSendFailuresAndHandlerErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Namespace: "x"})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Hooks()
	h.OnFrameOut(core.FrameOut{Phase: core.FrameSendFailed, Err: errors.New("broken pipe")})
	h.OnFrameIn(core.FrameIn{Phase: core.FrameRejected, Err: errors.New("boom"), Duration: time.Millisecond})
	h.OnFrameIn(core.FrameIn{Phase: core.FrameRejected, Err: storage.ErrDuplicate})
	h.OnDisconnect(core.DisconnectEvent{ConnEvent: core.ConnEvent{ConnID: "never-connected"}, Code: 1013})
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"x_send_failures_total", nil, 1},
		{"x_handler_duration_seconds", map[string]string{"outcome": "error"}, 1},
		{"x_frames_rejected_total", map[string]string{"code": string(core.CodeInternal)}, 1},
		{"x_frames_rejected_total", map[string]string{"code": string(middleware.CodeDuplicate)}, 1},
		{"x_connections_open", nil, 0}, // a connection that never joined is not subtracted
	} {
		if got := value(t, reg, tc.name, tc.labels); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
}

func TestStoreDecoratorStreams(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Store(core.NewMemoryStore(core.MemoryStoreOptions{}))
	errs := []error{
		s.StreamAppend(ctx, "s", "st", 1, "hel", time.Now().UnixMilli(), time.Second),
		func() error { _, err := s.StreamSnapshot(ctx, "s"); return err }(),
		s.Publish(ctx, "s", core.Message{Type: core.TypeTyping}),
		s.StreamCancel(ctx, "s", "st"),
		func() error {
			_, err := s.StreamFinish(ctx, "s", "st", core.Message{ID: "f", Type: core.TypeMessage, Role: core.RoleAssistant, Content: "hel"}, 10)
			return err
		}(),
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for _, op := range []string{"stream_append", "stream_snapshot", "publish", "stream_cancel", "stream_finish"} {
		if got := value(t, reg, "chatwire_store_duration_seconds", map[string]string{"op": op, "result": "ok"}); got != 1 {
			t.Errorf("%s observed %v times, want 1", op, got)
		}
	}
}

// TestStoreDecoratorOptionalParts: the wrapper implements storage.PendingStore and
// storage.DirectoryStore exactly when the wrapped store does (core finds them by type
// assertion: a wrapper hiding them would turn off human in the loop and conversations), and
// times their calls.
func TestStoreDecoratorOptionalParts(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mem := core.NewMemoryStore(core.MemoryStoreOptions{})
	s := m.Store(mem)
	p, ok := s.(storage.PendingStore)
	if !ok {
		t.Fatal("the wrapper of a MemoryStore is not a storage.PendingStore")
	}
	d, ok := s.(storage.DirectoryStore)
	if !ok {
		t.Fatal("the wrapper of a MemoryStore is not a storage.DirectoryStore")
	}
	if err := p.PendingAdd(ctx, "s", storage.PendingRequest{ID: "r1", Kind: storage.PendingApproval, StreamID: "st", Created: 1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.CreateConversation(ctx, "alice", storage.Conversation{ID: "c1", Created: 1, LastActive: 1}, 10); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"pending_add", "conversation_create"} {
		if got := value(t, reg, "chatwire_store_duration_seconds", map[string]string{"op": op, "result": "ok"}); got != 1 {
			t.Errorf("%s observed %v times, want 1", op, got)
		}
	}
	bare := m.Store(struct{ storage.Store }{mem}) // a store with neither optional part
	if _, ok := bare.(storage.PendingStore); ok {
		t.Error("the wrapper of a store without pending requests claims to hold them")
	}
	if _, ok := bare.(storage.DirectoryStore); ok {
		t.Error("the wrapper of a store without a directory claims to have one")
	}
}
