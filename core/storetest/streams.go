package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Leases of the stream cases: long ones never run out during a case, short ones are waited
// for (or skipped with Options.Advance).
const (
	longLease  = time.Minute
	shortLease = 50 * time.Millisecond
)

// started is the start time the stream cases give their streams.
const started int64 = 1700000000123

func streamCases() []tcase {
	return []tcase{
		{"StreamAppendAndSnapshot", testStreamAppendSnapshot},
		{"StreamEmptyDeltaOnlyRefreshesLease", testStreamEmptyDelta},
		{"StreamOutOfOrderDeltaRejected", testStreamOutOfOrder},
		{"StreamDeltasInOrderAcrossInstances", testStreamDeltasInOrder},
		{"StreamLeaseExpires", testStreamLease},
		{"StreamFinishAppendsRecord", testStreamFinish},
		{"StreamFinishNotRunning", testStreamFinishNotRunning},
		{"StreamFinishExactlyOnce", testStreamFinishOnce},
		{"StreamFinishDuplicateID", testStreamFinishDuplicate},
		{"StreamCancelAndPublishReachEveryone", testStreamCancelPublish},
		{"StreamInvalidSessionAndContext", testStreamCallChecks},
	}
}

// events returns the notifications received so far, Resync ones left out.
func (c *collector) events() []storage.Notification {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []storage.Notification
	for _, n := range c.notes {
		if !n.Resync {
			out = append(out, n)
		}
	}
	return out
}

// waitEvent waits until an event matching match has arrived and returns the events so far
// (described, see describe); it fails the test after timeout.
func (c *collector) waitEvent(t *testing.T, timeout time.Duration, what string, match func(storage.Notification) bool) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		evs := c.events()
		if slices.ContainsFunc(evs, match) {
			out := make([]string, len(evs))
			for i, n := range evs {
				out[i] = describe(n)
			}
			return out
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			t.Fatalf("no %s within %v; got %d notifications", what, timeout, len(evs))
		}
	}
}

// isDelta matches the delta seq of stream id; isEnd the end of stream id.
func isDelta(id string, seq uint64) func(storage.Notification) bool {
	return func(n storage.Notification) bool {
		return n.Stream != nil && n.Stream.Kind == storage.StreamDelta && n.Stream.StreamID == id && n.Stream.Seq == seq
	}
}

func isEnd(id string) func(storage.Notification) bool {
	return func(n storage.Notification) bool {
		return n.Stream != nil && n.Stream.Kind == storage.StreamEnded && n.Stream.StreamID == id
	}
}

func isRecord(seq uint64) func(storage.Notification) bool {
	return func(n storage.Notification) bool { return n.Stream == nil && n.Ephemeral == nil && n.Record.Seq == seq }
}

// describe renders a notification for comparison and error messages.
func describe(n storage.Notification) string {
	switch {
	case n.Resync:
		return "resync"
	case n.Ephemeral != nil:
		return "ephemeral " + show(*n.Ephemeral)
	case n.Stream == nil:
		return fmt.Sprintf("record %d %s", n.Record.Seq, show(n.Record.Message))
	}
	ev := n.Stream
	switch ev.Kind {
	case storage.StreamDelta:
		return fmt.Sprintf("delta %s #%d %q started %d", ev.StreamID, ev.Seq, ev.Delta, ev.Started)
	case storage.StreamCancelled:
		return "cancel " + ev.StreamID
	case storage.StreamEnded:
		return fmt.Sprintf("end %s with record %d %s", ev.StreamID, n.Record.Seq, show(n.Record.Message))
	}
	return fmt.Sprintf("stream event of kind %d: %+v", ev.Kind, *ev)
}

func deltaEvent(id string, seq uint64, delta string) string {
	return describe(storage.Notification{Stream: &storage.StreamEvent{Kind: storage.StreamDelta, StreamID: id, Seq: seq, Delta: delta, Started: started}})
}

func endEvent(id string, rec storage.Record) string {
	return describe(storage.Notification{Record: rec, Stream: &storage.StreamEvent{Kind: storage.StreamEnded, StreamID: id}})
}

func recordEvent(rec storage.Record) string { return describe(storage.Notification{Record: rec}) }

// checkEvents compares described notifications.
func checkEvents(t *testing.T, who string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s got notifications\n\t%s\nwant\n\t%s", who, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func (h *harness) mustStreamAppend(t *testing.T, s storage.Store, sid, id string, seq uint64, delta string, lease time.Duration) {
	t.Helper()
	if err := s.StreamAppend(h.ctx(t), sid, id, seq, delta, started, lease); err != nil {
		t.Fatalf("StreamAppend(%q, %q, %d, %q): %v", sid, id, seq, delta, err)
	}
}

// snapshot returns the running streams of sid by id.
func (h *harness) snapshot(t *testing.T, s storage.Store, sid string) map[string]storage.StreamState {
	t.Helper()
	states, err := s.StreamSnapshot(h.ctx(t), sid)
	if err != nil {
		t.Fatalf("StreamSnapshot(%q): %v", sid, err)
	}
	out := make(map[string]storage.StreamState, len(states))
	for _, st := range states {
		if _, dup := out[st.ID]; dup {
			t.Fatalf("StreamSnapshot lists stream %q twice", st.ID)
		}
		out[st.ID] = st
	}
	return out
}

// checkSnapshot checks that sid runs exactly the streams in want, seen from every instance.
func (h *harness) checkSnapshot(t *testing.T, sid string, want ...storage.StreamState) {
	t.Helper()
	for _, s := range []storage.Store{h.store, h.peer} {
		got := h.snapshot(t, s, sid)
		if len(got) != len(want) {
			t.Fatalf("StreamSnapshot = %+v, want %+v", got, want)
		}
		for _, w := range want {
			if g, ok := got[w.ID]; !ok || g != w {
				t.Fatalf("StreamSnapshot state of %q = %+v (listed %v), want %+v", w.ID, g, ok, w)
			}
		}
	}
}

func running(id string, seq uint64, content string) storage.StreamState {
	return storage.StreamState{ID: id, Seq: seq, Content: content, Started: started}
}

func testStreamAppendSnapshot(t *testing.T, h *harness) {
	sid := session()
	h.checkSnapshot(t, sid) // an unknown session runs no stream
	a, b := core.NewID(), core.NewID()
	h.mustStreamAppend(t, h.store, sid, a, 1, "", longLease) // the hub starts with an empty delta
	h.checkSnapshot(t, sid, running(a, 1, ""))
	h.mustStreamAppend(t, h.store, sid, a, 2, "Hello", longLease)
	h.mustStreamAppend(t, h.store, sid, a, 3, ", wörld: {ok} ✓", longLease)
	h.mustStreamAppend(t, h.peer, sid, b, 1, "x", longLease) // the first delta may carry text
	h.checkSnapshot(t, sid, running(a, 3, "Hello, wörld: {ok} ✓"), running(b, 1, "x"))
	h.checkSnapshot(t, session()) // other sessions see nothing
	// Deltas are not history.
	checkReads(t, h, sid, 0, []readCase{{after: 0}})
}

func testStreamEmptyDelta(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	id := core.NewID()
	h.mustStreamAppend(t, h.store, sid, id, 1, "", longLease) // starts the stream: notifies
	h.mustStreamAppend(t, h.store, sid, id, 1, "", longLease) // lease refreshes only
	h.mustStreamAppend(t, h.store, sid, id, 1, "", longLease)
	h.mustStreamAppend(t, h.store, sid, id, 2, "a", longLease)
	h.mustStreamAppend(t, h.store, sid, id, 2, "", longLease)
	h.mustStreamAppend(t, h.store, sid, id, 3, "b", longLease)
	got := sub.waitEvent(t, h.wait, "delta 3", isDelta(id, 3))
	checkEvents(t, "subscriber", got, []string{deltaEvent(id, 1, ""), deltaEvent(id, 2, "a"), deltaEvent(id, 3, "b")})
	h.checkSnapshot(t, sid, running(id, 3, "ab"))
}

func testStreamOutOfOrder(t *testing.T, h *harness) {
	sid := session()
	sub, _ := h.mustSubscribe(t, h.peer, sid)
	id := core.NewID()
	h.mustStreamAppend(t, h.store, sid, id, 1, "a", longLease)
	h.mustStreamAppend(t, h.store, sid, id, 2, "b", longLease)
	for _, bad := range []struct {
		seq   uint64
		delta string
	}{{4, "x"}, {2, "again"}, {1, "x"}, {1, ""}, {0, "x"}, {0, ""}} {
		err := h.store.StreamAppend(h.ctx(t), sid, id, bad.seq, bad.delta, started, longLease)
		if err == nil || errors.Is(err, storage.ErrStreamNotFound) {
			t.Errorf("StreamAppend seq %d %q after seq 2: err = %v, want an error (not ErrStreamNotFound: the stream runs)", bad.seq, bad.delta, err)
		}
	}
	h.checkSnapshot(t, sid, running(id, 2, "ab"))
	h.mustStreamAppend(t, h.store, sid, id, 3, "c", longLease)
	got := sub.waitEvent(t, h.wait, "delta 3", isDelta(id, 3))
	checkEvents(t, "subscriber", got, []string{deltaEvent(id, 1, "a"), deltaEvent(id, 2, "b"), deltaEvent(id, 3, "c")})

	// A stream that is not running is not started by a delta other than the first.
	other := core.NewID()
	for _, seq := range []uint64{2, 0} {
		if err := h.store.StreamAppend(h.ctx(t), sid, other, seq, "x", started, longLease); !errors.Is(err, storage.ErrStreamNotFound) {
			t.Errorf("StreamAppend seq %d to a stream that never started: err = %v, want ErrStreamNotFound", seq, err)
		}
	}
	h.checkSnapshot(t, sid, running(id, 3, "abc"))
}

func testStreamDeltasInOrder(t *testing.T, h *harness) {
	const n = 100
	sid := session()
	subs := map[string]*collector{}
	subs["local"], _ = h.mustSubscribe(t, h.store, sid)
	subs["peer"], _ = h.mustSubscribe(t, h.peer, sid)
	a, b := core.NewID(), core.NewID()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, p := range []struct {
		s  storage.Store
		id string
	}{{h.store, a}, {h.peer, b}} { // two producers on two instances at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint64(1); seq <= n; seq++ {
				if err := p.s.StreamAppend(context.Background(), sid, p.id, seq, fmt.Sprint(seq, " "), started, longLease); err != nil {
					errs <- fmt.Errorf("StreamAppend %d: %w", seq, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var text strings.Builder
	for seq := 1; seq <= n; seq++ {
		fmt.Fprint(&text, seq, " ")
	}
	h.checkSnapshot(t, sid, running(a, n, text.String()), running(b, n, text.String()))
	for name, sub := range subs {
		sub.waitEvent(t, h.wait, "the last delta of a", isDelta(a, n))
		sub.waitEvent(t, h.wait, "the last delta of b", isDelta(b, n))
		next := map[string]uint64{a: 1, b: 1}
		for _, ev := range sub.events() {
			s := ev.Stream
			if s == nil || s.Kind != storage.StreamDelta || next[s.StreamID] == 0 {
				t.Fatalf("%s subscriber: got %s, want only deltas of the two streams", name, describe(ev))
			}
			if want := next[s.StreamID]; s.Seq != want || s.Delta != fmt.Sprint(want, " ") || s.Started != started {
				t.Fatalf("%s subscriber: got %s, want delta %d of that stream", name, describe(ev), want)
			}
			next[s.StreamID]++
		}
	}
}

func testStreamLease(t *testing.T, h *harness) {
	sid := session()
	id := core.NewID()
	expire := func(seq uint64, content string) {
		t.Helper()
		want := running(id, seq, content)
		want.Expired = true
		if h.advance != nil {
			h.advance(shortLease)
			h.checkSnapshot(t, sid, want)
			return
		}
		deadline := time.Now().Add(h.wait)
		for h.snapshot(t, h.peer, sid)[id] != want {
			if time.Now().After(deadline) {
				t.Fatalf("lease of %v did not expire within %v: %+v", shortLease, h.wait, h.snapshot(t, h.peer, sid))
			}
			time.Sleep(5 * time.Millisecond) // polling: there is no event for a lease running out
		}
		h.checkSnapshot(t, sid, want)
	}
	h.mustStreamAppend(t, h.store, sid, id, 1, "a", longLease)
	h.checkSnapshot(t, sid, running(id, 1, "a"))
	h.mustStreamAppend(t, h.store, sid, id, 2, "b", shortLease)
	expire(2, "ab") // an expired stream is still listed, with its text
	// A refresh renews the lease.
	h.mustStreamAppend(t, h.store, sid, id, 2, "", longLease)
	h.checkSnapshot(t, sid, running(id, 2, "ab"))
	if h.advance != nil {
		h.advance(shortLease)
		h.checkSnapshot(t, sid, running(id, 2, "ab"))
	}
	h.mustStreamAppend(t, h.store, sid, id, 2, "", shortLease)
	expire(2, "ab")
	h.mustStreamAppend(t, h.store, sid, id, 3, "c", longLease) // so does a delta
	h.checkSnapshot(t, sid, running(id, 3, "abc"))
	h.mustStreamAppend(t, h.store, sid, id, 4, "", shortLease)
	expire(4, "abc")
	// Any instance may end an expired stream.
	if _, err := h.peer.StreamFinish(h.ctx(t), sid, id, msg(id, "abc"), 0); err != nil {
		t.Fatalf("StreamFinish of an expired stream: %v", err)
	}
	h.checkSnapshot(t, sid)
}
