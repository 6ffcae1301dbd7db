package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

func sessionCases() []testCase {
	return []testCase{
		{"FanOutToEveryConnection", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"room-1"}}
			a := DialJoined(t, ep, q, nil)
			b := DialJoined(t, ep, q, nil)
			other := DialJoined(t, ep, url.Values{"sessionId": {"room-2"}}, nil)
			a.Send(core.Message{ID: "m1", Type: core.TypeMessage, Content: "hi"})
			for name, c := range map[string]*Client{"sender": a, "second tab": b} {
				got := c.ReadN(2)
				if got[0].ID != "m1" || got[0].Role != core.RoleUser || got[1].Content != "Echo: hi" || got[1].Role != core.RoleAssistant {
					t.Fatalf("%s got %+v", name, got)
				}
			}
			other.Send(msg("x"))
			if m := other.Read(); m.Content != "x" {
				t.Fatalf("other session received %+v before its own message", m)
			}
		}},
		{"NoMessageMissedAfterUpgrade", func(t *testing.T, mount Mount) {
			// The adapter joins the session before answering 101: a message stored right after
			// the handshake completes reaches the new connection, with no sync step.
			_, ep := serve(t, mount, core.Options{Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			for i := 0; i < 30; i++ {
				q := url.Values{"sessionId": {fmt.Sprint("race-", i)}}
				a := DialJoined(t, ep, q, nil)
				b := Dial(t, ep, q, nil)
				a.Send(core.Message{ID: fmt.Sprint("m", i), Type: core.TypeMessage, Content: "right after the upgrade"})
				if m := b.Read(); m.ID != fmt.Sprint("m", i) {
					t.Fatalf("round %d: got %+v", i, m)
				}
				_ = a.Conn.Close()
				_ = b.Conn.Close()
			}
		}},
		{"ReplayAfterLastMessageID", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"s"}}
			a := Dial(t, ep, q, nil)
			var seen []core.Message
			for i := 0; i < 3; i++ {
				a.Send(msg(fmt.Sprint(i)))
				seen = append(seen, a.ReadN(2)...)
			}
			q.Set("lastMessageId", seen[1].ID)
			b := Dial(t, ep, q, nil)
			got := b.ReadN(4)
			for i, m := range got {
				if m.ID != seen[2+i].ID || m.Content != seen[2+i].Content {
					t.Fatalf("replay[%d] = %q %q, want %q %q", i, m.ID, m.Content, seen[2+i].ID, seen[2+i].Content)
				}
			}
			a.Send(msg("live"))
			if m := b.Read(); m.Content != "live" {
				t.Fatalf("after replay got %+v, want the live message", m)
			}
		}},
		{"HistoryAllReplaysRetained", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{}), MaxStoredMessages: 3})
			q := url.Values{"sessionId": {"s"}}
			a := DialJoined(t, ep, q, nil)
			var seen []core.Message
			for i := 0; i < 3; i++ {
				a.Send(msg(fmt.Sprint(i)))
				seen = append(seen, a.ReadN(2)...)
			}
			q.Set("history", "all")
			b := Dial(t, ep, q, nil)
			for i, m := range b.ReadN(3) {
				if m.ID != seen[3+i].ID {
					t.Fatalf("history[%d] = %q, want %q (the 3 retained)", i, m.Content, seen[3+i].Content)
				}
			}
			a.Send(msg("live"))
			if m := b.Read(); m.Content != "live" {
				t.Fatalf("after the history got %+v, want the live message (no gap notice)", m)
			}
			q.Set("history", "some")
			if c, resp, _ := DialRaw(ep, q, nil); c != nil || resp == nil || resp.StatusCode != 400 {
				t.Fatalf("history=some: want 400, got %v", resp)
			}
		}},
		{"UnknownLastMessageIDReplaysAllAndWarns", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{}), MaxStoredMessages: 3})
			q := url.Values{"sessionId": {"s"}}
			a := Dial(t, ep, q, nil)
			var seen []core.Message
			for i := 0; i < 3; i++ {
				a.Send(msg(fmt.Sprint(i)))
				seen = append(seen, a.ReadN(2)...)
			}
			q.Set("lastMessageId", "no-such-id")
			b := Dial(t, ep, q, nil)
			got := b.ReadN(4)
			for i, m := range got[:3] {
				if m.ID != seen[3+i].ID {
					t.Fatalf("replay[%d] = %q, want %q (the 3 retained)", i, m.ID, seen[3+i].ID)
				}
			}
			g := got[3]
			if g.Type != core.TypeSystem || metaCode(g) != core.CodeReplayGap {
				t.Fatalf("after the replay got %+v, want the REPLAY_GAP system envelope", g)
			}
		}},
		{"StaleEpochGetsHistoryReset", func(t *testing.T, mount Mount) {
			// A client whose lastMessageId belongs to a history epoch that is gone (its
			// query names it) is told HISTORY_RESET, then gets the whole current history.
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"s"}}
			a := Dial(t, ep, q, nil)
			a.Send(msg("0"))
			seen := a.ReadN(2)
			q.Set("lastMessageId", seen[0].ID)
			q.Set("epoch", "an-epoch-that-is-gone")
			b := Dial(t, ep, q, nil)
			got := b.ReadN(3)
			if got[0].Type != core.TypeSystem || metaCode(got[0]) != core.CodeHistoryReset {
				t.Fatalf("first frame %+v, want the HISTORY_RESET system envelope", got[0])
			}
			if got[1].ID != seen[0].ID || got[2].ID != seen[1].ID {
				t.Fatalf("after the reset got %q, %q; want the whole history %q, %q", got[1].ID, got[2].ID, seen[0].ID, seen[1].ID)
			}
		}},
		{"TrimmedLastMessageIDWarns", func(t *testing.T, mount Mount) {
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: core.NewMemoryStore(core.MemoryStoreOptions{}), MaxStoredMessages: 2})
			q := url.Values{"sessionId": {"s"}}
			a := Dial(t, ep, q, nil)
			a.Send(msg("0"))
			first := a.ReadN(2)
			a.Send(msg("1"))
			a.ReadN(2)
			q.Set("lastMessageId", first[0].ID) // trimmed away by now
			b := Dial(t, ep, q, nil)
			got := b.ReadN(3)
			if got[0].Content != "1" || got[1].Content != "Echo: 1" || metaCode(got[2]) != core.CodeReplayGap {
				t.Fatalf("got %+v", got)
			}
		}},
		{"ReplayDuringConcurrentAppends", func(t *testing.T, mount Mount) {
			// Slow history lookups widen the window in which live records arrive while the
			// replay is read; they must be queued after it without gap or duplicate.
			st := &slowReadStore{MemoryStore: core.NewMemoryStore(core.MemoryStoreOptions{}), delay: 40 * time.Millisecond}
			_, ep := serve(t, mount, core.Options{Handler: &recorder{}, Store: st, MaxStoredMessages: 10000})
			q := url.Values{"sessionId": {"busy"}}
			a := Dial(t, ep, q, nil)
			a.Send(msg("start"))
			start := a.ReadN(2)
			const n = 60
			var history []core.Message
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the writer side: a keeps appending while b reconnects
				defer wg.Done()
				for i := 0; i < n; i++ {
					a.Send(msg(fmt.Sprint(i)))
					time.Sleep(time.Millisecond)
				}
			}()
			q.Set("lastMessageId", start[1].ID)
			b := Dial(t, ep, q, nil)
			history = a.ReadN(2 * n)
			wg.Wait()
			got := b.ReadN(2 * n)
			for i := range got {
				if got[i].ID != history[i].ID {
					t.Fatalf("reconnected client: message %d is %q (%q), want %q (%q): gap or duplicate", i, got[i].ID, got[i].Content, history[i].ID, history[i].Content)
				}
			}
		}},
		{"RetriedMessageNotHandledTwice", func(t *testing.T, mount Mount) {
			rec := &recorder{}
			_, ep := serve(t, mount, core.Options{Handler: rec, Store: core.NewMemoryStore(core.MemoryStoreOptions{})})
			q := url.Values{"sessionId": {"s"}}
			a := Dial(t, ep, q, nil)
			m := core.Message{ID: "retry-me", Type: core.TypeMessage, Content: "once"}
			a.Send(m)
			a.ReadN(2)
			a.Send(m)
			a.Send(msg("next"))
			if got := a.ReadN(2); got[0].Content != "next" || got[1].Content != "Echo: next" {
				t.Fatalf("after the retry got %+v, want the next message and its reply (no duplicate)", got)
			}
			if n := len(rec.requests()); n != 2 {
				t.Fatalf("handler called %d times, want 2", n)
			}
		}},
		{"StoreUnavailable", func(t *testing.T, mount Mount) {
			st := &flakyStore{MemoryStore: core.NewMemoryStore(core.MemoryStoreOptions{})}
			rec := &recorder{}
			_, ep := serve(t, mount, core.Options{Handler: rec, Store: st})
			a := Dial(t, ep, url.Values{"sessionId": {"s"}}, nil)
			st.setDown(true)
			a.Send(msg("lost?"))
			assertError(t, a.Read(), core.CodeStoreUnavailable, "Message could not be stored; please retry")
			st.setDown(false)
			a.Send(msg("back"))
			if got := a.ReadN(2); got[0].Content != "back" || got[1].Content != "Echo: back" {
				t.Fatalf("after recovery got %+v", got)
			}
			if n := len(rec.requests()); n != 1 {
				t.Fatalf("handler called %d times, want 1 (not for the unstored message)", n)
			}
		}},
	}
}

// slowReadStore returns each Read result only after a delay, so records appended in the
// meantime are not in the page: a replay must pick them up from live delivery.
type slowReadStore struct {
	*core.MemoryStore
	delay time.Duration
}

func (s *slowReadStore) Read(ctx context.Context, sid string, after uint64) (storage.Page, error) {
	p, err := s.MemoryStore.Read(ctx, sid, after)
	time.Sleep(s.delay)
	return p, err
}

// Join is the read a joining connection makes (its replay), slowed like Read.
func (s *slowReadStore) Join(ctx context.Context, sid string, req storage.JoinRequest) (storage.Joined, error) {
	j, err := s.MemoryStore.Join(ctx, sid, req)
	time.Sleep(s.delay)
	return j, err
}

// flakyStore fails Append with ErrStoreUnavailable while down.
type flakyStore struct {
	*core.MemoryStore
	mu   sync.Mutex
	down bool
}

func (s *flakyStore) setDown(v bool) { s.mu.Lock(); s.down = v; s.mu.Unlock() }

func (s *flakyStore) Append(ctx context.Context, sid string, m core.Message, n int) (storage.Record, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return storage.Record{}, fmt.Errorf("append: %w", errors.Join(core.ErrStoreUnavailable, errors.New("dial tcp: refused")))
	}
	return s.MemoryStore.Append(ctx, sid, m, n)
}
