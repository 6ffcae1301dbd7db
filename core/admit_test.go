package core

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestHubAdmit(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	released := 0
	info := connInfo{SessionID: "s", LastMessageID: "m", RemoteAddr: "1.2.3.4:5", Header: http.Header{"X": {"y"}}, Principal: "from-auth"}
	var seen *AdmitRequest
	h := &Hub{opts: Options{Admit: func(ctx context.Context, r *AdmitRequest) (Admission, error) {
		seen = r
		return Admission{Principal: "admitted", Subprotocol: "chatwire", Expires: exp, Release: func() { released++ }}, nil
	}}}
	sub, err := h.admit(context.Background(), &info, url.Values{"q": {"1"}})
	if err != nil || sub != "chatwire" {
		t.Fatalf("got %q, %v", sub, err)
	}
	if seen.SessionID != "s" || seen.LastMessageID != "m" || seen.Query.Get("q") != "1" || seen.Header.Get("X") != "y" || seen.Principal != "from-auth" || seen.RemoteAddr != "1.2.3.4:5" {
		t.Fatalf("admit saw %+v", seen)
	}
	if info.Principal != "admitted" || !info.Expires.Equal(exp) || info.OnClose == nil {
		t.Fatalf("admission not applied: %+v", info)
	}
	info.OnClose()
	if released != 1 {
		t.Fatal("OnClose is not the admission's Release")
	}

	keep := connInfo{Principal: "p"}
	if sub, err := (&Hub{}).admit(context.Background(), &keep, nil); sub != "" || err != nil || keep.Principal != "p" {
		t.Fatal("a nil AdmitFunc must admit without changes")
	}
	refused := errors.New("no")
	h = &Hub{opts: Options{Admit: func(context.Context, *AdmitRequest) (Admission, error) {
		return Admission{}, refused
	}}}
	if _, err := h.admit(context.Background(), &keep, nil); !errors.Is(err, refused) {
		t.Fatalf("refusal lost: %v", err)
	}
}
