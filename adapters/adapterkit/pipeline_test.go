package adapterkit

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/internal/hubport"
)

func TestConstantsMatchTheHub(t *testing.T) {
	pairs := [][2]int{{TextMessage, hubport.TextMessage}, {BinaryMessage, hubport.BinaryMessage},
		{CloseMessage, hubport.CloseMessage}, {PingMessage, hubport.PingMessage},
		{PongMessage, hubport.PongMessage}, {MaxCloseReason, hubport.MaxCloseReason}}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("adapterkit %d != hubport %d", p[0], p[1])
		}
	}
}

// fakeExchange is an Exchange without a network: it records the response and fails or
// accepts the upgrade.
type fakeExchange struct {
	parts      Parts
	authErr    error
	upgradeErr error

	status  int
	header  http.Header
	body    string
	pending *Pending
}

func (x *fakeExchange) Parts() Parts               { return x.parts }
func (x *fakeExchange) Authenticate() (any, error) { return nil, x.authErr }
func (x *fakeExchange) Respond(status int, h http.Header, b []byte) error {
	x.status, x.header, x.body = status, h, string(b)
	return nil
}
func (x *fakeExchange) Upgrade(sub string, p *Pending) error {
	x.pending = p
	return x.upgradeErr
}

func upgradeParts(rawQuery string) Parts {
	return Parts{Context: context.Background(), Host: "chat.example.com", RawQuery: rawQuery,
		Header: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}}
}

func TestPipelineRefusesInOneFormat(t *testing.T) {
	hub := core.NewHub(core.Options{})
	defer hub.Shutdown(context.Background())
	pl := New(hub, Options{AllowedHosts: []string{"chat.example.com"}})
	tests := []struct {
		name   string
		x      *fakeExchange
		status int
		body   string
	}{
		{"not an upgrade", &fakeExchange{parts: Parts{Host: "chat.example.com", Header: http.Header{}}}, 426, "Expected WebSocket upgrade\n"},
		{"host", &fakeExchange{parts: func() Parts { p := upgradeParts(""); p.Host = "evil.io"; return p }()}, 403, "Host not allowed\n"},
		{"query", &fakeExchange{parts: upgradeParts("sessionId=a;b")}, 400, "Invalid query\n"},
		{"authenticate", &fakeExchange{parts: upgradeParts(""), authErr: errors.New("expired")}, 401, "Unauthorized\n"},
	}
	for _, tt := range tests {
		if err := pl.Serve(tt.x); err != nil {
			t.Errorf("%s: Serve = %v", tt.name, err)
		}
		if tt.x.status != tt.status || tt.x.body != tt.body ||
			tt.x.header.Get("Content-Type") != "text/plain; charset=utf-8" || tt.x.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: got %d %q %v", tt.name, tt.x.status, tt.x.body, tt.x.header)
		}
		if tt.x.pending != nil {
			t.Errorf("%s: upgraded after a refusal", tt.name)
		}
	}
}

func TestPipelineAbortsAFailedUpgrade(t *testing.T) {
	released := 0
	hub := core.NewHub(core.Options{Admit: func(context.Context, *core.AdmitRequest) (core.Admission, error) {
		return core.Admission{Release: func() { released++ }}, nil
	}})
	defer hub.Shutdown(context.Background())
	pl := New(hub, Options{})
	failed := errors.New("hijack failed")
	x := &fakeExchange{parts: upgradeParts("sessionId=s"), upgradeErr: failed}
	if err := pl.Serve(x); !errors.Is(err, failed) {
		t.Fatalf("Serve = %v, want the upgrade's error", err)
	}
	if x.pending == nil || x.pending.SessionID() != "s" {
		t.Fatalf("pending %+v", x.pending)
	}
	if released != 1 || hub.ConnCount() != 0 {
		t.Fatalf("released %d, %d connections left; want the admission given back", released, hub.ConnCount())
	}
	x.pending.Abort() // a second Abort does nothing
	if released != 1 {
		t.Fatalf("released %d times", released)
	}
}
