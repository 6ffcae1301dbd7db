package core

import (
	"strings"
	"testing"
)

func TestValidSessionIDAndNewID(t *testing.T) {
	for _, id := range []string{"a", "room-1", "user_2.chat:3", NewID(), strings.Repeat("a", MaxSessionIDLen)} {
		if !ValidSessionID(id) {
			t.Errorf("ValidSessionID(%q) = false", id)
		}
	}
	for _, id := range []string{"", "a b", "{x}", "a*", "é", "a/b", strings.Repeat("a", MaxSessionIDLen+1)} {
		if ValidSessionID(id) {
			t.Errorf("ValidSessionID(%q) = true", id)
		}
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if len(id) != 36 || id[14] != '4' || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestOptionsDefaultsDoNotMutate(t *testing.T) {
	in := Options{MaxMessageSize: 10}
	out := in.withDefaults()
	if in.HeartbeatInterval != 0 || in.Logger != nil {
		t.Fatal("withDefaults modified its receiver's source")
	}
	if out.HeartbeatInterval != DefaultHeartbeatInterval || out.MaxStoredMessages != DefaultMaxStoredMessages ||
		out.SendQueueSize != DefaultSendQueueSize || out.HardMaxMessageSize != 160 || out.Logger == nil {
		t.Fatalf("defaults not applied: %+v", out)
	}
	if d := (Options{HeartbeatInterval: -1}).withDefaults(); d.HeartbeatInterval >= 0 {
		t.Fatal("a negative HeartbeatInterval must stay negative (disabled)")
	}
}

func TestCloseCodeString(t *testing.T) {
	for code, want := range map[CloseCode]string{
		CloseNormal:          "1000 normal closure",
		CloseGoingAway:       "1001 going away",
		CloseAbnormal:        "1006 abnormal closure",
		ClosePolicyViolation: "1008 policy violation",
		CloseServiceRestart:  "1012 service restart",
		CloseTryAgainLater:   "1013 try again later",
		4000:                 "4000",
	} {
		if got := code.String(); got != want {
			t.Errorf("CloseCode(%d).String() = %q, want %q", int(code), got, want)
		}
	}
}
