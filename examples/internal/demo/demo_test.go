package demo

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
)

func TestFlagsMapToHubOptions(t *testing.T) {
	tests := []struct {
		args      []string
		heartbeat time.Duration
	}{
		{nil, core.DefaultHeartbeatInterval},
		{[]string{"-heartbeat", "0"}, -1},
		{[]string{"-heartbeat", "5s"}, 5 * time.Second},
	}
	for _, tt := range tests {
		set := flag.NewFlagSet("x", flag.ContinueOnError)
		f := RegisterFlags(set)
		if err := set.Parse(append(tt.args, "-max-message-size", "1000", "-max-stored", "7")); err != nil {
			t.Fatal(err)
		}
		o := f.HubOptions(nil, nil, nil)
		if o.HeartbeatInterval != tt.heartbeat || o.MaxMessageSize != 1000 || o.MaxStoredMessages != 7 {
			t.Errorf("%v: got heartbeat %v, size %d, stored %d", tt.args, o.HeartbeatInterval, o.MaxMessageSize, o.MaxStoredMessages)
		}
	}
}

func TestAnswerIsDeterministic(t *testing.T) {
	a, b := Answer("hello", 50), Answer("hello", 50)
	if strings.Join(a, "") != strings.Join(b, "") {
		t.Fatal("the same question got two answers")
	}
	if strings.Join(a, "") == strings.Join(Answer("other", 50), "") {
		t.Fatal("different questions got the same answer")
	}
	if len(a) != 50 || !strings.HasPrefix(a[0], `You said "hello"`) || !strings.HasSuffix(a[49], ".") {
		t.Fatalf("unexpected answer shape: %q … %q", a[0], a[49])
	}
}

func TestFakeReplyIsDeterministic(t *testing.T) {
	for _, q := range []string{"hello", "how does resuming work?", ""} {
		roll := DieRoll(q)
		if roll < 1 || roll > 6 || roll != DieRoll(q) {
			t.Fatalf("DieRoll(%q) = %d", q, roll)
		}
		text := Text(q, roll, 20)
		if len(text) != 21 || text[1] != fmt.Sprintf("The die shows %d. ", roll) || strings.Join(text, "") != strings.Join(Text(q, roll, 20), "") {
			t.Fatalf("Text(%q): %q", q, text)
		}
		if r := strings.Join(Reasoning(q), ""); !strings.Contains(r, "roll a six-sided die") || r != strings.Join(Reasoning(q), "") {
			t.Fatalf("Reasoning(%q) = %q", q, r)
		}
	}
}

func TestDefaultAddrIsLoopback(t *testing.T) {
	set := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(set)
	if err := set.Parse(nil); err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(f.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Fatalf("default -addr %q does not bind to loopback only", f.Addr)
	}
}

func TestStaticServesTheIcon(t *testing.T) {
	srv := httptest.NewServer(Static())
	defer srv.Close()
	for _, path := range []string{"/favicon.ico", "/favicon.svg"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(body), "<svg") {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(page), `<link rel="icon" href="favicon.svg"`) {
		t.Fatal("the page does not name its icon")
	}
}

func TestLoginRedirectsOnlyToLocalPaths(t *testing.T) {
	a := NewAuth(time.Hour)
	tests := []struct{ next, want string }{
		{"", "/"},
		{"/?sessionId=room", "/?sessionId=room"},
		{"//evil.example/", "/"},
		{"https://evil.example/", "/"},
		{`/\evil.example`, "/"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		a.Login(rec, httptest.NewRequest(http.MethodGet, LoginPath+"?name=alice&next="+url.QueryEscape(tt.next), nil))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != tt.want {
			t.Errorf("next=%q: %d to %q, want %q", tt.next, rec.Code, rec.Header().Get("Location"), tt.want)
		}
		if c := rec.Result().Cookies(); len(c) != 1 || !c[0].HttpOnly {
			t.Errorf("next=%q: cookies %v", tt.next, c)
		}
	}
	rec := httptest.NewRecorder()
	a.Login(rec, httptest.NewRequest(http.MethodGet, LoginPath+"?name=no%20spaces", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("an invalid name got %d", rec.Code)
	}
}
