package client

import (
	"errors"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
)

// step is one frame fed to a receiver and what it must produce (kind 0: nothing).
type step struct {
	frame    string
	kind     EventKind
	stored   bool
	text     string // Stream.Text, or Message.Content for message events
	delta    string
	replaced bool
	state    core.StreamStatus
	code     string // Stream.Code or ServerError.Code
	streamID string // Event.StreamID for EventMessage
}

func delta(seq, content string) string {
	return `{"id":"s1:` + seq + `","type":"typing","role":"assistant","content":"` + content + `","metadata":{"stream":{"id":"s1","seq":` + seq + `,"state":"delta"}},"timestamp":1}`
}

func resume(seq, content string) string {
	return `{"id":"s1:` + seq + `:resume","type":"typing","role":"assistant","content":"` + content + `","metadata":{"stream":{"id":"s1","seq":` + seq + `,"state":"delta","resume":true}},"timestamp":1}`
}

func final(id, state, content, extra string) string {
	return `{"id":"` + id + `","type":"message","role":"assistant","content":"` + content + `","metadata":{"stream":{"id":"` + id + `","seq":9,"state":"` + state + `"}` + extra + `},"timestamp":2}`
}

func TestReceiver(t *testing.T) {
	tests := []struct {
		name   string
		window int
		steps  []step
	}{
		{"MessagesAndDuplicates", 100, []step{
			{frame: `{"id":"a","type":"message","role":"user","content":"hi","timestamp":1}`, kind: EventMessage, stored: true, text: "hi"},
			{frame: `{"id":"b","type":"message","role":"assistant","content":"yo","timestamp":1}`, kind: EventMessage, stored: true, text: "yo"},
			{frame: `{"id":"a","type":"message","role":"user","content":"hi","timestamp":1}`},
			{frame: `{"id":"t","type":"typing","role":"user","content":"","timestamp":1}`, kind: EventMessage},
			{frame: `{"id":"t","type":"typing","role":"user","content":"","timestamp":1}`, kind: EventMessage}, // typing is not deduplicated
			{frame: `{"id":"e","type":"error","role":"system","content":"Message must be a JSON object","metadata":{"code":"INVALID_MESSAGE"},"timestamp":1}`, kind: EventError, code: "INVALID_MESSAGE", text: "Message must be a JSON object"},
			{frame: `{"id":"g","type":"system","role":"system","content":"gap","metadata":{"code":"REPLAY_GAP","reason":"unknown_id"},"timestamp":1}`, kind: EventReplayGap, text: "gap"},
			{frame: `{"id":"g","type":"system","role":"system","content":"gap","metadata":{"code":"REPLAY_GAP","reason":"unknown_id"},"timestamp":1}`},
			{frame: `{"id":"n","type":"system","role":"system","content":"note","timestamp":1}`, kind: EventMessage, stored: true, text: "note"},
		}},
		{"HistoryResetForgetsSeenIDs", 100, []step{
			{frame: `{"id":"a","type":"message","role":"user","content":"hi","timestamp":1}`, kind: EventMessage, stored: true, text: "hi"},
			{frame: `{"id":"r","type":"system","role":"system","content":"reset","metadata":{"code":"HISTORY_RESET","epoch":"e2"},"timestamp":1}`, kind: EventHistoryReset, text: "reset"},
			{frame: `{"id":"a","type":"message","role":"user","content":"hi","timestamp":1}`, kind: EventMessage, stored: true, text: "hi"}, // the new history may repeat an id
			{frame: `{"id":"a","type":"message","role":"user","content":"hi","timestamp":1}`},
		}},
		{"StreamAssembly", 100, []step{
			{frame: delta("1", ""), kind: EventStream, text: "", state: core.StreamStateDelta},
			{frame: delta("2", "a "), kind: EventStream, text: "a ", delta: "a "},
			{frame: delta("2", "a ")}, // already applied
			{frame: delta("4", "b c "), kind: EventStream, text: "a b c ", delta: "b c "}, // coalesced 3+4
			{frame: `{"id":"tc","type":"tool_call","role":"assistant","content":"{}","metadata":{"stream":{"id":"s1"}},"timestamp":1}`, kind: EventMessage, stored: true, text: "{}", streamID: "s1"},
			{frame: resume("4", "a b c ")}, // nothing new after a reconnect
			{frame: resume("6", "a b c d e "), kind: EventStream, text: "a b c d e ", replaced: true},
			{frame: delta("5", "d ")}, // stale
			{frame: delta("7", "f"), kind: EventStream, text: "a b c d e f", delta: "f"},
			{frame: final("s1", "done", "a b c d e f.", ""), kind: EventStreamEnd, stored: true, text: "a b c d e f.", delta: ".", state: "done"},
			{frame: delta("8", "late")},                      // the stream has ended
			{frame: final("s1", "done", "a b c d e f.", "")}, // replayed after a reconnect
			{frame: resume("9", "a b c d e f.")},             // cannot happen, and is ignored
		}},
		{"StreamMetOnlyThroughFinal", 100, []step{
			{frame: final("s2", "cancelled", "partial", ""), kind: EventStreamEnd, stored: true, text: "partial", replaced: true, state: "cancelled"},
		}},
		{"StreamMetMidwayAndFailed", 100, []step{
			{frame: resume("5", "so far "), kind: EventStream, text: "so far ", replaced: true},
			{frame: final("s1", "error", "different", `,"code":"STREAM_LOST"`), kind: EventStreamEnd, stored: true, text: "different", replaced: true, state: "error", code: "STREAM_LOST"},
		}},
		{"DedupeWindowForgetsOldest", 2, []step{
			{frame: `{"id":"a","type":"message","role":"user","content":"1","timestamp":1}`, kind: EventMessage, stored: true, text: "1"},
			{frame: `{"id":"b","type":"message","role":"user","content":"2","timestamp":1}`, kind: EventMessage, stored: true, text: "2"},
			{frame: `{"id":"b","type":"message","role":"user","content":"2","timestamp":1}`},
			{frame: `{"id":"c","type":"message","role":"user","content":"3","timestamp":1}`, kind: EventMessage, stored: true, text: "3"},
			{frame: `{"id":"a","type":"message","role":"user","content":"1","timestamp":1}`, kind: EventMessage, stored: true, text: "1"},
			{frame: `{"id":"c","type":"message","role":"user","content":"3","timestamp":1}`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(tt.window)
			for i, s := range tt.steps {
				var m core.Message
				if err := envelope.Decode([]byte(s.frame), &m); err != nil {
					t.Fatalf("step %d: bad test frame: %v", i, err)
				}
				ev, ok, stored := r.handle(m, tt.window)
				if !ok {
					if s.kind != 0 {
						t.Fatalf("step %d: no event, want %v", i, s.kind)
					}
					continue
				}
				if ev.Kind != s.kind || stored != s.stored {
					t.Fatalf("step %d: got %v (stored %v), want %v (stored %v)", i, ev.Kind, stored, s.kind, s.stored)
				}
				switch ev.Kind {
				case EventStream, EventStreamEnd:
					st := ev.Stream
					if st.Text != s.text || st.Delta != s.delta || st.Replaced != s.replaced || st.Code != s.code {
						t.Fatalf("step %d: stream %+v, want text %q delta %q replaced %v code %q", i, st, s.text, s.delta, s.replaced, s.code)
					}
					if s.state != "" && st.State != s.state {
						t.Fatalf("step %d: state %q, want %q", i, st.State, s.state)
					}
					if ev.Kind == EventStreamEnd && (st.Running() || ev.Message.ID != st.ID) {
						t.Fatalf("step %d: end event %+v", i, ev)
					}
				case EventError:
					var se *ServerError
					if !errors.As(ev.Err, &se) || se.Code != s.code || se.Message != s.text {
						t.Fatalf("step %d: error %v, want code %q text %q", i, ev.Err, s.code, s.text)
					}
				default:
					if ev.Message.Content != s.text || ev.StreamID != s.streamID {
						t.Fatalf("step %d: message %+v (stream %q), want %q (stream %q)", i, ev.Message, ev.StreamID, s.text, s.streamID)
					}
				}
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	seq := func(vals ...float64) func() float64 {
		i := 0
		return func() float64 { v := vals[i%len(vals)]; i++; return v }
	}
	tests := []struct {
		name    string
		b       Backoff
		attempt int
		wantCap string
		rand    float64
		want    string // the delay for rand
	}{
		{"FirstDefault", Backoff{}, 0, "250ms", 0.5, "125ms"},
		{"Doubles", Backoff{}, 3, "2s", 0.5, "1s"},
		{"CappedAtMax", Backoff{}, 7, "30s", 0.5, "15s"},
		{"HugeAttemptDoesNotOverflow", Backoff{}, 1 << 30, "30s", 0.25, "7.5s"},
		{"ZeroRandIsZero", Backoff{}, 2, "1s", 0, "0s"},
		{"RandNearOneStaysBelowCap", Backoff{Min: time.Second, Max: 4 * time.Second}, 5, "4s", 0.9999999999999999, "3.999999999s"},
		{"RandOutOfRangeClamped", Backoff{Min: time.Second, Max: 4 * time.Second}, 0, "1s", 7, "999.999999ms"},
		{"NegativeRandClamped", Backoff{Min: time.Second}, 0, "1s", -3, "0s"},
		{"MaxBelowMinRaised", Backoff{Min: time.Second, Max: time.Millisecond}, 3, "1s", 0.5, "500ms"},
		{"HugeMax", Backoff{Min: time.Second, Max: time.Duration(1<<63 - 1)}, 100, "2562047h47m16.854775807s", 0.5, "1281023h53m38.427387904s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			b.Rand = seq(tt.rand)
			if got := b.Cap(tt.attempt).String(); got != tt.wantCap {
				t.Fatalf("Cap(%d) = %s, want %s", tt.attempt, got, tt.wantCap)
			}
			if got := b.Delay(tt.attempt).String(); got != tt.want {
				t.Fatalf("Delay(%d) with rand %v = %s, want %s", tt.attempt, tt.rand, got, tt.want)
			}
		})
	}

	// Full jitter: over many draws every delay is within [0, cap) and they spread over it.
	b := Backoff{Min: 100 * time.Millisecond, Max: 3 * time.Second}
	for attempt := range 8 {
		c := b.Cap(attempt)
		var lo, hi time.Duration = c, 0
		for range 2000 {
			d := b.Delay(attempt)
			if d < 0 || d >= c {
				t.Fatalf("Delay(%d) = %v outside [0, %v)", attempt, d, c)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo > c/10 || hi < c*9/10 {
			t.Fatalf("Delay(%d) spans only [%v, %v] of [0, %v): not full jitter", attempt, lo, hi, c)
		}
	}
}
