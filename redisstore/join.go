package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/storage"
)

// Join implements storage.Store in one round trip: joinScript (epoch, head, the anchor, the
// records after it, and a TTL refresh of the session's keys) and streamSnapshotScript are
// sent in one pipeline. Each script is atomic, and both run back to back on the session's
// node, so what one reads is at most a few commands older than the other; the hub treats a
// stream that ended in between like one that ends after the join. When Redis does not know
// the scripts yet (a first use, a restart or SCRIPT FLUSH), the pipeline is sent again
// with their full text.
func (s *Store) Join(ctx context.Context, sessionID string, req storage.JoinRequest) (storage.Joined, error) {
	const op = "join"
	if err := check(ctx, op, sessionID); err != nil {
		return storage.Joined{}, err
	}
	k := s.opts.keysFor(sessionID)
	replay := "0"
	if req.Replay {
		replay = "1"
	}
	joinKeys := []string{k.stream, k.meta, k.streams}
	joinArgs := []any{req.LastMessageID, req.Epoch, replay, s.opts.ttlMillis()}
	var join, snap *redis.Cmd
	run := func(full bool) error {
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			if full {
				join = joinScript.Eval(ctx, p, joinKeys, joinArgs...)
				snap = streamSnapshotScript.Eval(ctx, p, []string{k.streams}, k.base)
			} else {
				join = joinScript.EvalSha(ctx, p, joinKeys, joinArgs...)
				snap = streamSnapshotScript.EvalSha(ctx, p, []string{k.streams}, k.base)
			}
			return nil
		})
		return err
	}
	err := run(false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		err = run(true)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return storage.Joined{}, fail(ctx, op, sessionID, err)
	}
	res, err := join.Slice()
	if err != nil {
		return storage.Joined{}, fail(ctx, op, sessionID, err)
	}
	if len(res) != 5 {
		return storage.Joined{}, fail(ctx, op, sessionID, errBadReply)
	}
	var j storage.Joined
	if a, _ := res[3].(string); a != "" {
		if j.Anchor, err = parseUint(a); err != nil {
			return storage.Joined{}, fail(ctx, op, sessionID, err)
		}
		j.Found = true
	}
	if j.Page, err = parsePage(res[0], res[1], res[2], res[4], j.Anchor); err != nil {
		return storage.Joined{}, fail(ctx, op, sessionID, err)
	}
	if !req.Replay {
		j.Page.Trimmed = false
	}
	states, err := snap.Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return storage.Joined{}, fail(ctx, op, sessionID, err)
	}
	for _, v := range states {
		st, err := parseStreamState(v)
		if err != nil {
			return storage.Joined{}, fail(ctx, op, sessionID, err)
		}
		j.Streams = append(j.Streams, st)
	}
	return j, nil
}
