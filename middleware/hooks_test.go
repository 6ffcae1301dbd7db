package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

func TestChainAndApply(t *testing.T) {
	var calls []string
	note := func(s string) { calls = append(calls, s) }
	guard := func(name string) core.Guard {
		return func(context.Context, *core.Request) error { note(name); return nil }
	}
	a := middleware.Hooks{
		OnConnect:    func(core.ConnEvent) { note("a.connect") },
		OnDisconnect: func(core.DisconnectEvent) { note("a.disconnect") },
		OnFrameIn:    func(core.FrameIn) { note("a.in") },
		Guards:       []core.Guard{guard("a.guard")},
	}
	b := middleware.Hooks{
		OnConnect:  func(core.ConnEvent) { note("b.connect") },
		OnFrameOut: func(core.FrameOut) { note("b.out") },
		Guards:     []core.Guard{guard("b.guard")},
	}
	own := core.Options{
		OnConnect: func(core.ConnEvent) { note("own.connect") },
		Guards:    []core.Guard{guard("own.guard")},
	}
	opts := middleware.Chain(a, middleware.Hooks{}, b).Apply(own)
	if len(own.Guards) != 1 {
		t.Fatal("Apply modified the caller's options")
	}
	opts.OnConnect(core.ConnEvent{})
	opts.OnDisconnect(core.DisconnectEvent{})
	opts.OnFrameIn(core.FrameIn{})
	opts.OnFrameOut(core.FrameOut{})
	for _, g := range opts.Guards {
		_ = g(context.Background(), &core.Request{})
	}
	want := []string{"own.connect", "a.connect", "b.connect", "a.disconnect", "a.in", "b.out", "own.guard", "a.guard", "b.guard"}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("calls %q, want %q", calls, want)
	}
	if empty := middleware.Chain().Apply(core.Options{}); empty.OnConnect != nil || empty.OnFrameIn != nil || len(empty.Guards) != 0 {
		t.Fatal("an empty chain installed hooks")
	}
}

func TestAdmitCombination(t *testing.T) {
	var released []string
	soon, later := time.Now().Add(time.Minute), time.Now().Add(time.Hour)
	step := func(name string, adm core.Admission, err error) core.AdmitFunc {
		return func(_ context.Context, req *core.AdmitRequest) (core.Admission, error) {
			if name == "authz" && req.Principal != "alice" {
				return core.Admission{}, errors.New("authz ran without the principal")
			}
			if adm.Release == nil && err == nil {
				adm.Release = func() { released = append(released, name) }
			}
			return adm, err
		}
	}
	refuse := &core.HandshakeError{Status: http.StatusTooManyRequests, Body: "Too many"}
	cases := []struct {
		name         string
		fns          []core.AdmitFunc
		err          error
		wantReleased []string // at once (refusal) or by Release (admission)
		want         core.Admission
	}{
		{
			name: "all admit",
			fns: []core.AdmitFunc{
				step("auth", core.Admission{Principal: "alice", Subprotocol: "chatwire", Expires: later}, nil),
				step("authz", core.Admission{Subprotocol: "other", Expires: soon}, nil),
				nil,
				step("caps", core.Admission{}, nil),
			},
			wantReleased: []string{"caps", "authz", "auth"},
			want:         core.Admission{Principal: "alice", Subprotocol: "chatwire", Expires: soon},
		},
		{
			name: "third refuses",
			fns: []core.AdmitFunc{
				step("auth", core.Admission{Principal: "alice"}, nil),
				step("authz", core.Admission{}, nil),
				step("caps", core.Admission{}, refuse),
			},
			err:          refuse,
			wantReleased: []string{"authz", "auth"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			released = nil
			adm, err := middleware.Admit(tc.fns...)(context.Background(), &core.AdmitRequest{})
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil {
				if released != nil {
					t.Fatalf("released %q before the connection ended", released)
				}
				adm.Release()
				adm.Release() // exactly once, however often it is called
				adm.Release = nil
				if !reflect.DeepEqual(adm, tc.want) {
					t.Fatalf("admission %+v, want %+v", adm, tc.want)
				}
			}
			if !reflect.DeepEqual(released, tc.wantReleased) {
				t.Fatalf("released %q, want %q", released, tc.wantReleased)
			}
		})
	}
}

func TestChainReportsRefusals(t *testing.T) {
	var refused []int
	observe := func(_ *core.AdmitRequest, err error) {
		status, _ := adapterkit.RefusalOf(err)
		refused = append(refused, status)
	}
	mw := middleware.Chain(
		middleware.Hooks{OnRefuse: observe},
		middleware.Hooks{Admit: middleware.Auth(middleware.AuthOptions{Verify: testVerifier})},
		middleware.Hooks{OnRefuse: observe},
	)
	_, err := mw.Admit(context.Background(), &core.AdmitRequest{Header: http.Header{}})
	if err == nil || !reflect.DeepEqual(refused, []int{401, 401}) {
		t.Fatalf("err %v, observers saw %v; want 401 seen by both", err, refused)
	}
}
