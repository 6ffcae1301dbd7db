package core

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestConnInfoAdmit(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	released := 0
	info := ConnInfo{SessionID: "s", LastMessageID: "m", RemoteAddr: "1.2.3.4:5", Header: http.Header{"X": {"y"}}, Principal: "from-auth"}
	var seen *AdmitRequest
	sub, err := info.Admit(context.Background(), func(ctx context.Context, r *AdmitRequest) (Admission, error) {
		seen = r
		return Admission{Principal: "admitted", Subprotocol: "chatwire", Expires: exp, Release: func() { released++ }}, nil
	}, url.Values{"q": {"1"}})
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

	keep := ConnInfo{Principal: "p"}
	if sub, err := keep.Admit(context.Background(), nil, nil); sub != "" || err != nil || keep.Principal != "p" {
		t.Fatal("a nil AdmitFunc must admit without changes")
	}
	refused := errors.New("no")
	if _, err := keep.Admit(context.Background(), func(context.Context, *AdmitRequest) (Admission, error) {
		return Admission{}, refused
	}, nil); !errors.Is(err, refused) {
		t.Fatalf("refusal lost: %v", err)
	}
	if st, body := RefusalOf(refused); st != http.StatusForbidden || body != "Forbidden" {
		t.Fatalf("RefusalOf(plain) = %d %q", st, body)
	}
	if st, body := RefusalOf(&HandshakeError{Status: 401, Body: "Unauthorized"}); st != 401 || body != "Unauthorized" {
		t.Fatalf("RefusalOf(HandshakeError) = %d %q", st, body)
	}
}
