package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// TestFanoutSpreadOverSessions: while one session's subscriber is busy, other sessions'
// notifications are still delivered (fan-out runs on several workers, by session), and
// every session's records arrive in order.
func TestFanoutSpreadOverSessions(t *testing.T) {
	ctx := context.Background()
	_, client := newMiniredis(t)
	s := newStore(t, client, redisstore.Options{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	blocked := make(chan struct{}, 1)
	cancel, err := s.Subscribe(ctx, "busy", func(n storage.Notification) {
		if n.Record.Seq == 1 {
			blocked <- struct{}{}
			<-release // a slow subscriber holds its worker
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	const sessions = 16
	got := make([]*notes, sessions)
	for i := range got {
		got[i] = newNotes()
		c, err := s.Subscribe(ctx, fmt.Sprintf("free-%d", i), got[i].fn)
		if err != nil {
			t.Fatal(err)
		}
		defer c()
	}
	if _, err := s.Append(ctx, "busy", testMsg("b"), 0); err != nil {
		t.Fatal(err)
	}
	<-blocked
	for i := range got {
		for j := range 3 {
			if _, err := s.Append(ctx, fmt.Sprintf("free-%d", i), testMsg(fmt.Sprint(j)), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Sessions on other workers than "busy" get all their records meanwhile, in order.
	deadline := time.Now().Add(5 * time.Second)
	delivered := 0
	for time.Now().Before(deadline) {
		delivered = 0
		for _, n := range got {
			if seqsOf(n.snapshot()) == "1 2 3" {
				delivered++
			}
		}
		if delivered > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if delivered == 0 {
		t.Fatal("no session was delivered while one subscriber was busy: fan-out is serialised")
	}
	releaseOnce.Do(func() { close(release) })
	for i, n := range got {
		n.waitFor(t, fmt.Sprintf("session %d's last record", i), hasSeq(3))
		if s := seqsOf(n.snapshot()); s != "1 2 3" {
			t.Errorf("session %d got %s, want 1 2 3 in order", i, s)
		}
	}
	t.Logf("%d of %d sessions delivered while one subscriber was blocked", delivered, sessions)
}

func seqsOf(ns []storage.Notification) string {
	out := ""
	for _, n := range ns {
		if n.Record.Seq == 0 {
			continue
		}
		if out != "" {
			out += " "
		}
		out += fmt.Sprint(n.Record.Seq)
	}
	return out
}
