package adaptertest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// StoreFactory returns the store instance number i (0 or 1) of a two-instance deployment:
// both must share one backend (the same MemoryStore, or two Redis stores on one server).
// It is called once per instance per case.
type StoreFactory func(t *testing.T, instance int) core.Store

// RunCluster runs the multi-instance cases: two hubs, each behind its own server mounted
// with mount, sharing a backend through newStore.
func RunCluster(t *testing.T, mount Mount, newStore StoreFactory) {
	for _, tc := range append(append(append(clusterCases(), partsClusterCases()...), hitlClusterCases()...), policyClusterCases()...) {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, mount, newStore) })
	}
}

type clusterCase struct {
	name string
	run  func(t *testing.T, mount Mount, newStore StoreFactory)
}

// instance is one hub of a cluster test.
type instance struct {
	hub   *core.Hub
	url   string
	store *killableStore
}

func twoInstances(t *testing.T, mount Mount, newStore StoreFactory, opts core.Options) [2]*instance {
	t.Helper()
	var out [2]*instance
	for i := range out {
		st := &killableStore{inner: newStore(t, i)}
		o := opts
		o.Store = st
		h := newHub(t, o)
		out[i] = &instance{hub: h, url: mount(t, h, Config{}), store: st}
	}
	return out
}

func clusterCases() []clusterCase {
	return []clusterCase{
		{"LiveFanOutAcrossInstances", func(t *testing.T, mount Mount, newStore StoreFactory) {
			in := twoInstances(t, mount, newStore, core.Options{Handler: &recorder{}})
			q := url.Values{"sessionId": {"fan"}}
			a := DialJoined(t, in[0].url, q, nil)
			b := DialJoined(t, in[1].url, q, nil)
			b.Send(core.Message{ID: "from-b", Type: core.TypeMessage, Content: "hello"})
			for name, c := range map[string]*Client{"instance A": a, "instance B": b} {
				got := c.ReadN(2)
				if got[0].ID != "from-b" || got[1].Content != "Echo: hello" {
					t.Fatalf("%s got %+v", name, got)
				}
			}
		}},
		{"ReconnectToOtherInstanceReplaysExactly", func(t *testing.T, mount Mount, newStore StoreFactory) {
			in := twoInstances(t, mount, newStore, core.Options{Handler: &recorder{}, MaxStoredMessages: 1000})
			q := url.Values{"sessionId": {"move"}}
			writer := DialJoined(t, in[0].url, q, nil)
			mover := DialJoined(t, in[0].url, q, nil)
			var all []core.Message
			send := func(n int) {
				for i := 0; i < n; i++ {
					writer.Send(msg(fmt.Sprint(len(all), "-", i)))
					all = append(all, writer.ReadN(2)...)
				}
			}
			send(3)
			seen := mover.ReadN(len(all))
			_ = mover.Conn.Close()
			send(5) // missed by the mover
			q.Set("lastMessageId", seen[len(seen)-1].ID)
			moved := Dial(t, in[1].url, q, nil)
			got := moved.ReadN(len(all) - len(seen))
			for i, m := range got {
				if want := all[len(seen)+i]; m.ID != want.ID {
					t.Fatalf("replay[%d] = %q, want %q", i, m.Content, want.Content)
				}
			}
			send(2) // live, produced on A, seen on B
			for i, m := range moved.ReadN(4) {
				if want := all[len(all)-4+i]; m.ID != want.ID {
					t.Fatalf("live[%d] = %q, want %q", i, m.Content, want.Content)
				}
			}
		}},
		{"StreamResumesOnOtherInstance", func(t *testing.T, mount Mount, newStore StoreFactory) {
			g := newGated()
			in := twoInstances(t, mount, newStore, core.Options{Handler: g})
			q := url.Values{"sessionId": {"stream-move"}}
			a := Dial(t, in[0].url, q, nil)
			a.Send(core.Message{ID: "q", Type: core.TypeMessage, Content: "question"})
			a.Read()
			ws := words(300)
			g.feed(ws[:100]...)
			_ = a.Conn.Close() // leaves instance A mid-stream
			g.feed(ws[100:200]...)
			q.Set("lastMessageId", "q")
			b := Dial(t, in[1].url, q, nil)
			asm := newAssembler(t)
			first := b.Read()
			asm.apply(first)
			if sm, _ := streamOf(first); !sm.Resume || first.Content != strings.Join(ws[:200], "") {
				t.Fatalf("first frame on instance B = %q, want the compacted text so far", first.Content)
			}
			done := make(chan struct{})
			go func() { // the rest is produced on A and arrives on B through the store
				defer close(done)
				g.feed(ws[200:]...)
				close(g.gate)
			}()
			s, _ := asm.readStream(b)
			<-done
			if s.text != strings.Join(ws, "") || s.final != core.StreamStateDone {
				t.Fatalf("resumed on B: %d bytes, state %q; want %d bytes, done", len(s.text), s.final, len(strings.Join(ws, "")))
			}
		}},
		{"CancelFromOtherInstanceWithin100ms", func(t *testing.T, mount Mount, newStore StoreFactory) {
			g := newGated()
			in := twoInstances(t, mount, newStore, core.Options{Handler: g})
			q := url.Values{"sessionId": {"cancel-x"}}
			a := DialJoined(t, in[0].url, q, nil)
			b := DialJoined(t, in[1].url, q, nil)
			a.Send(msg("run on A"))
			g.feed("partial ", "text")
			asm := newAssembler(t)
			b.Read() // the user message
			var id string
			for id == "" || asm.streams[id].text != "partial text" {
				id = asm.apply(b.Read())
			}
			start := time.Now()
			b.SendRaw(`{"type":"system","content":"cancel","metadata":{"stream":{"id":"` + id + `","action":"cancel"}}}`)
			select {
			case <-g.cancelled:
				if d := time.Since(start); d > 100*time.Millisecond {
					t.Errorf("cancel from instance B reached the producer on A after %v, want < 100ms", d)
				}
			case <-time.After(waitTimeout):
				t.Fatal("cancel from instance B never reached the producer on A")
			}
			s, _ := asm.readStream(b)
			if s.final != core.StreamStateCancelled || s.text != "partial text" {
				t.Fatalf("stream ended %q with %q", s.final, s.text)
			}
		}},
		{"ProducerLossEndsStreamWithError", func(t *testing.T, mount Mount, newStore StoreFactory) {
			const lease = 300 * time.Millisecond
			g := newGated()
			in := twoInstances(t, mount, newStore, core.Options{Handler: g, StreamLease: lease})
			q := url.Values{"sessionId": {"lost"}}
			a := DialJoined(t, in[0].url, q, nil)
			b := DialJoined(t, in[1].url, q, nil)
			a.Send(msg("go"))
			g.feed("some ", "words")
			asm := newAssembler(t)
			b.Read()
			var id string
			for id == "" || asm.streams[id].text != "some words" {
				id = asm.apply(b.Read())
			}
			in[0].store.kill() // instance A loses its store: no more deltas, lease renewals or end
			lost := time.Now()
			s, _ := asm.readStream(b)
			if d := time.Since(lost); d > 2*lease+time.Second {
				t.Errorf("watchers saw the end %v after the producer was lost; bound is about StreamLease (%v)", d, lease)
			}
			if s.final != core.StreamStateError || metaCode(s.stored) != core.CodeStreamLost || s.text != "some words" {
				t.Fatalf("stream ended %q (%s) with %q; want error/STREAM_LOST with the text so far", s.final, s.stored.Metadata, s.text)
			}
			close(g.gate) // let the producer's handler return
		}},
	}
}

// killableStore wraps an instance's store; after kill every call fails as if the backend
// were unreachable and no more notifications are passed on.
type killableStore struct {
	inner core.Store
	dead  atomic.Bool
}

var _ core.Store = (*killableStore)(nil)

var errKilled = fmt.Errorf("killed: %w", core.ErrStoreUnavailable)

func (k *killableStore) kill() { k.dead.Store(true) }

func (k *killableStore) check() error {
	if k.dead.Load() {
		return errKilled
	}
	return nil
}

func (k *killableStore) Append(ctx context.Context, sid string, m core.Message, n int) (storage.Record, error) {
	if err := k.check(); err != nil {
		return storage.Record{}, err
	}
	return k.inner.Append(ctx, sid, m, n)
}

func (k *killableStore) Read(ctx context.Context, sid string, after uint64) (storage.Page, error) {
	if err := k.check(); err != nil {
		return storage.Page{}, err
	}
	return k.inner.Read(ctx, sid, after)
}

func (k *killableStore) Lookup(ctx context.Context, sid, id string) (uint64, bool, error) {
	if err := k.check(); err != nil {
		return 0, false, err
	}
	return k.inner.Lookup(ctx, sid, id)
}

func (k *killableStore) Join(ctx context.Context, sid string, req storage.JoinRequest) (storage.Joined, error) {
	if err := k.check(); err != nil {
		return storage.Joined{}, err
	}
	return k.inner.Join(ctx, sid, req)
}

func (k *killableStore) Subscribe(ctx context.Context, sid string, fn func(storage.Notification)) (func(), error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	return k.inner.Subscribe(ctx, sid, func(n storage.Notification) {
		if !k.dead.Load() {
			fn(n)
		}
	})
}

func (k *killableStore) StreamAppend(ctx context.Context, sid, id string, seq uint64, d string, started int64, lease time.Duration) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.inner.StreamAppend(ctx, sid, id, seq, d, started, lease)
}

func (k *killableStore) StreamSnapshot(ctx context.Context, sid string) ([]storage.StreamState, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	return k.inner.StreamSnapshot(ctx, sid)
}

func (k *killableStore) StreamFinish(ctx context.Context, sid, id string, final core.Message, n int) (storage.Record, error) {
	if err := k.check(); err != nil {
		return storage.Record{}, err
	}
	return k.inner.StreamFinish(ctx, sid, id, final, n)
}

func (k *killableStore) StreamCancel(ctx context.Context, sid, id string) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.inner.StreamCancel(ctx, sid, id)
}

func (k *killableStore) Publish(ctx context.Context, sid string, m core.Message) error {
	if err := k.check(); err != nil {
		return err
	}
	return k.inner.Publish(ctx, sid, m)
}
