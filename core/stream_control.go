package core

import (
	"context"
	"sort"

	"github.com/chatwire/chatwire/internal/streamlog"
)

// RunningStream is a stream running in a session (Hub.RunningStreams).
type RunningStream struct {
	// ID is the stream's id, also the id of the message it leaves.
	ID string
	// ReplyTo is the id of the message the stream answers ("" when unknown).
	ReplyTo string
	// Started is when it started, in ms since the Unix epoch.
	Started int64
	// Seq is the number of deltas written so far.
	Seq uint64
}

// RunningStreams returns the streams running in a session, oldest first: with a Store, on
// any instance sharing it (streams whose producer was lost are left out); without one, the
// streams this hub produces.
func (h *Hub) RunningStreams(ctx context.Context, sessionID string) ([]RunningStream, error) {
	var out []RunningStream
	if h.store == nil {
		var local []*Stream
		h.runningMu.Lock()
		for k, s := range h.running {
			if k.session == sessionID {
				local = append(local, s)
			}
		}
		h.runningMu.Unlock()
		// Stream locks its mu before runningMu (registerStream), so never hold both here.
		for _, s := range local {
			s.mu.Lock()
			if !s.ended {
				out = append(out, RunningStream{ID: s.id, ReplyTo: s.w.replyTo, Started: s.started, Seq: s.seq})
			}
			s.mu.Unlock()
		}
	} else {
		sctx, cancel := h.storeCtx(ctx)
		states, err := h.store.StreamSnapshot(sctx, sessionID)
		cancel()
		if err != nil {
			return nil, WrapError(CodeStoreUnavailable, "Streams could not be read", err)
		}
		for _, st := range states {
			if !st.Expired {
				out = append(out, RunningStream{ID: st.ID, ReplyTo: streamlog.ReplyTo(st.Content), Started: st.Started, Seq: st.Seq})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Started != out[j].Started {
			return out[i].Started < out[j].Started
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// CancelStream asks a running stream to stop, wherever it runs: this hub cancels its own
// stream directly; with a Store, the request reaches the instance producing it. The stream
// then ends with state "cancelled". Cancelling a stream that does not run does nothing.
func (h *Hub) CancelStream(ctx context.Context, sessionID, streamID string) error {
	if h.cancelLocalStream(sessionID, streamID) || h.store == nil {
		return nil
	}
	sctx, cancel := h.storeCtx(ctx)
	defer cancel()
	if err := h.store.StreamCancel(sctx, sessionID, streamID); err != nil {
		return WrapError(CodeStoreUnavailable, "Cancel request could not be delivered", err)
	}
	return nil
}

// HasStore reports whether the hub keeps sessions in a Store, so that streams can be
// watched and resumed by any connection (and, with a shared store, any instance).
func (h *Hub) HasStore() bool { return h.store != nil }

// liveStreamIDs returns the ids of the session's streams whose producers are alive (their
// lease has not run out), from one snapshot of the store.
func (h *Hub) liveStreamIDs(ctx context.Context, sessionID string) (map[string]bool, error) {
	states, err := h.store.StreamSnapshot(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	live := make(map[string]bool, len(states))
	for _, st := range states {
		if !st.Expired {
			live[st.ID] = true
		}
	}
	return live, nil
}
