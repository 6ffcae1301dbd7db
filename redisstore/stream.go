package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

var _ storage.StreamStore = (*Store)(nil)

// validStreamID reports whether a stream id may become part of a key name. Stream ids
// follow the rules of session ids (core.ValidSessionID); the hub's are UUIDs.
func validStreamID(id string) bool { return core.ValidSessionID(id) }

// notRunning is the error for a stream that is not running.
func notRunning(op, sessionID, streamID string) error {
	return fmt.Errorf("redisstore: %s %q in %q: %w", op, streamID, sessionID, storage.ErrStreamNotFound)
}

// leaseMillis is the lease argument of streamAppendScript: at least 1 ms for a positive
// lease, 0 (already expired) otherwise.
func leaseMillis(lease time.Duration) int64 {
	if lease <= 0 {
		return 0
	}
	return max(lease.Milliseconds(), 1)
}

// StreamAppend implements storage.StreamStore with one Lua script that checks the sequence,
// appends the delta to the stream's text, moves its lease deadline (kept in the server's
// clock), refreshes the session's TTL and publishes the delta. A stream id that
// core.ValidSessionID rejects is never running (storage.ErrStreamNotFound), checked before any
// I/O.
func (s *Store) StreamAppend(ctx context.Context, sessionID, streamID string, seq uint64, delta string, started int64, lease time.Duration) error {
	const op = "stream append"
	if err := check(ctx, op, sessionID); err != nil {
		return err
	}
	if !validStreamID(streamID) {
		return notRunning(op, sessionID, streamID)
	}
	k := s.opts.keysFor(sessionID)
	state, text := k.streamKeys(streamID)
	res, err := s.eval(ctx, streamAppendScript,
		[]string{k.streams, state, text, k.stream, k.meta},
		k.channel, streamID, strconv.FormatUint(seq, 10), delta, strconv.FormatInt(started, 10),
		leaseMillis(lease), s.opts.ttlMillis()).Slice()
	if err != nil {
		return fail(ctx, op, sessionID, err)
	}
	code := int64(-2) // a malformed reply
	if len(res) > 0 {
		if c, ok := res[0].(int64); ok {
			code = c
		}
	}
	switch {
	case code == 1 && seq%storage.StreamCompactEvery == 0:
		s.compactStream(ctx, state, text)
		return nil
	case code == 1 || code == 2:
		return nil
	case code == 0:
		return notRunning(op, sessionID, streamID)
	case code == -1 && len(res) == 2:
		cur, err := parseUint(res[1])
		if err != nil {
			return fail(ctx, op, sessionID, err)
		}
		return fmt.Errorf("redisstore: %s %q in %q: delta %d after %d", op, streamID, sessionID, seq, cur)
	}
	return fail(ctx, op, sessionID, errBadReply)
}

// compactStream replaces a running stream's text with storage.CompactStreamLog's compaction,
// unless a delta was appended meanwhile. It costs two round trips every
// storage.StreamCompactEvery deltas; failing is harmless (the text stays as it was), so
// errors are dropped.
func (s *Store) compactStream(ctx context.Context, state, text string) {
	res, err := s.eval(ctx, streamReadScript, []string{state, text}).Slice()
	if err != nil || len(res) != 2 {
		return
	}
	seq, ok1 := res[0].(string)
	content, ok2 := res[1].(string)
	if !ok1 || !ok2 {
		return
	}
	compacted, ok := storage.CompactStreamLog(content)
	if !ok || len(compacted) >= len(content) {
		return
	}
	_ = s.eval(ctx, streamCompactScript, []string{state, text}, seq, compacted).Err()
}

// StreamSnapshot implements storage.StreamStore with one Lua script, so the states are
// consistent with each other and with the deltas published around it. A lease is expired
// when the Redis server's clock has reached its deadline.
func (s *Store) StreamSnapshot(ctx context.Context, sessionID string) ([]storage.StreamState, error) {
	const op = "stream snapshot"
	if err := check(ctx, op, sessionID); err != nil {
		return nil, err
	}
	k := s.opts.keysFor(sessionID)
	res, err := s.eval(ctx, streamSnapshotScript, []string{k.streams}, k.base).Slice()
	if err != nil {
		return nil, fail(ctx, op, sessionID, err)
	}
	var out []storage.StreamState
	for _, v := range res {
		st, err := parseStreamState(v)
		if err != nil {
			return nil, fail(ctx, op, sessionID, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// parseStreamState reads one element of streamSnapshotScript's reply.
func parseStreamState(v any) (storage.StreamState, error) {
	e, ok := v.([]any)
	if !ok || len(e) != 5 {
		return storage.StreamState{}, fmt.Errorf("%w: stream state %T", errBadReply, v)
	}
	id, ok1 := e[0].(string)
	started, ok2 := e[2].(string)
	expired, ok3 := e[3].(int64)
	content, ok4 := e[4].(string)
	if !(ok1 && ok2 && ok3 && ok4) {
		return storage.StreamState{}, fmt.Errorf("%w: stream state %v", errBadReply, e)
	}
	seq, err := parseUint(e[1])
	if err != nil {
		return storage.StreamState{}, err
	}
	ms, err := strconv.ParseInt(started, 10, 64)
	if err != nil {
		return storage.StreamState{}, fmt.Errorf("%w: stream start %q", errBadReply, started)
	}
	return storage.StreamState{ID: id, Seq: seq, Content: content, Started: ms, Expired: expired == 1}, nil
}

// StreamFinish implements storage.StreamStore with one Lua script that removes the stream's
// state and appends final exactly as Append does (with its duplicate check, trimming and
// TTL), publishing the record marked as the stream's end. When final's id is already
// retained, the stream still ends and the retained record is returned with
// storage.ErrDuplicate (nothing is published).
func (s *Store) StreamFinish(ctx context.Context, sessionID, streamID string, final core.Message, maxLen int) (storage.Record, error) {
	const op = "stream finish"
	if err := check(ctx, op, sessionID); err != nil {
		return storage.Record{}, err
	}
	if !validStreamID(streamID) {
		return storage.Record{}, notRunning(op, sessionID, streamID)
	}
	k := s.opts.keysFor(sessionID)
	state, text := k.streamKeys(streamID)
	res, err := s.eval(ctx, streamFinishScript,
		[]string{k.stream, k.meta, k.streams, state, text},
		append(s.appendArgs(k, final, maxLen), streamID)...).Slice()
	if err != nil {
		return storage.Record{}, fail(ctx, op, sessionID, err)
	}
	if len(res) == 1 {
		if code, _ := res[0].(int64); code == -1 {
			return storage.Record{}, notRunning(op, sessionID, streamID)
		}
	}
	rec, _, err := appendReply(ctx, op, sessionID, final, res)
	return rec, err
}

// StreamCancel implements storage.StreamStore with one PUBLISH (from a script, see
// publishScript), storing nothing. A stream id that
// core.ValidSessionID rejects cannot be running, so nothing is published for it.
func (s *Store) StreamCancel(ctx context.Context, sessionID, streamID string) error {
	const op = "stream cancel"
	if err := check(ctx, op, sessionID); err != nil {
		return err
	}
	if !validStreamID(streamID) {
		return nil
	}
	k := s.opts.keysFor(sessionID)
	if err := s.eval(ctx, publishScript, []string{k.meta}, k.channel, "c"+streamID).Err(); err != nil {
		return fail(ctx, op, sessionID, err)
	}
	return nil
}

// Publish implements storage.StreamStore with one PUBLISH (from a script, see publishScript);
// nothing is stored.
func (s *Store) Publish(ctx context.Context, sessionID string, msg core.Message) error {
	const op = "publish"
	if err := check(ctx, op, sessionID); err != nil {
		return err
	}
	k := s.opts.keysFor(sessionID)
	if err := s.eval(ctx, publishScript, []string{k.meta}, k.channel, ephemeralPayload(msg)).Err(); err != nil {
		return fail(ctx, op, sessionID, err)
	}
	return nil
}
