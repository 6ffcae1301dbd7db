package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/storage"
)

// Pending requests (storage.PendingStore) live in one hash per session, "<prefix>{<sid>}:pending",
// in the session's hash slot: field "r:<id>" is the request's JSON after a 20-digit order
// number, "a:<id>" its answer's JSON (absent while unanswered), "x:<id>" its expiry in ms (0:
// never), "#" the order counter. The hash gets the session TTL on every add. Answering is one
// script: check, record and PUBLISH the notice on the session's channel, atomically.

var _ storage.PendingStore = (*Store)(nil)

// maxPendingFields bounds the hash: storage.MaxPendingPerSession requests, three fields each,
// plus the counter.
const maxPendingFields = 3*storage.MaxPendingPerSession + 1

// pendingAddScript: KEYS[1] the hash; ARGV id, request JSON, expires, TTL ms (0: none),
// field limit. Returns 1, 0 for a duplicate, -1 when full.
var pendingAddScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'r:' .. ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return -1 end
local n = redis.call('HINCRBY', KEYS[1], '#', 1)
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], string.format('%020d', n) .. ARGV[2], 'x:' .. ARGV[1], ARGV[3])
if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
`)

// pendingAnswerScript: KEYS[1] the hash; ARGV id, answer JSON, now (0: no expiry check),
// channel, notice payload. Returns {3, request} when recorded, {0} unknown, {1} answered,
// {2} expired.
var pendingAnswerScript = redis.NewScript(`
local r = redis.call('HGET', KEYS[1], 'r:' .. ARGV[1])
if not r then return {0} end
if redis.call('HEXISTS', KEYS[1], 'a:' .. ARGV[1]) == 1 then return {1} end
local now = tonumber(ARGV[3])
local x = tonumber(redis.call('HGET', KEYS[1], 'x:' .. ARGV[1]) or '0') or 0
if now > 0 and x > 0 and now >= x then return {2} end
redis.call('HSET', KEYS[1], 'a:' .. ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {3, r}
`)

func (s *Store) pendingKey(sessionID string) string {
	return s.opts.keysFor(sessionID).base + "pending"
}

// PendingAdd implements storage.PendingStore with one script.
func (s *Store) PendingAdd(ctx context.Context, sessionID string, req storage.PendingRequest) error {
	const op = "pending add"
	if err := check(ctx, op, sessionID); err != nil {
		return err
	}
	req.Answer = nil
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	n, err := s.eval(ctx, pendingAddScript, []string{s.pendingKey(sessionID)}, req.ID, b, req.Expires, s.opts.ttlMillis(), maxPendingFields).Int()
	switch {
	case err != nil:
		return fail(ctx, op, sessionID, err)
	case n == 0:
		return fmt.Errorf("redisstore: %s %q: %w", op, req.ID, storage.ErrDuplicate)
	case n < 0:
		return fmt.Errorf("redisstore: %s: more than %d requests in session %q", op, storage.MaxPendingPerSession, sessionID)
	}
	return nil
}

// decodePending builds a request from its stored fields.
func decodePending(r string, a any) (storage.PendingRequest, error) {
	var req storage.PendingRequest
	if len(r) < 20 {
		return req, fmt.Errorf("%w: malformed pending request", errBadReply)
	}
	if err := json.Unmarshal([]byte(r[20:]), &req); err != nil {
		return req, fmt.Errorf("%w: %w", errBadReply, err)
	}
	if as, ok := a.(string); ok && as != "" {
		var ans storage.PendingAnswer
		if err := json.Unmarshal([]byte(as), &ans); err != nil {
			return req, fmt.Errorf("%w: %w", errBadReply, err)
		}
		req.Answer = &ans
	}
	return req, nil
}

// PendingGet implements storage.PendingStore with one HMGET.
func (s *Store) PendingGet(ctx context.Context, sessionID, id string) (storage.PendingRequest, error) {
	const op = "pending get"
	if err := check(ctx, op, sessionID); err != nil {
		return storage.PendingRequest{}, err
	}
	vals, err := s.client.HMGet(ctx, s.pendingKey(sessionID), "r:"+id, "a:"+id).Result()
	if err != nil {
		return storage.PendingRequest{}, fail(ctx, op, sessionID, err)
	}
	r, ok := vals[0].(string)
	if !ok {
		return storage.PendingRequest{}, storage.ErrPendingNotFound
	}
	req, err := decodePending(r, vals[1])
	if err != nil {
		return storage.PendingRequest{}, fail(ctx, op, sessionID, err)
	}
	return req, nil
}

// PendingList implements storage.PendingStore with one HGETALL.
func (s *Store) PendingList(ctx context.Context, sessionID string) ([]storage.PendingRequest, error) {
	const op = "pending list"
	if err := check(ctx, op, sessionID); err != nil {
		return nil, err
	}
	all, err := s.client.HGetAll(ctx, s.pendingKey(sessionID)).Result()
	if err != nil {
		return nil, fail(ctx, op, sessionID, err)
	}
	type entry struct {
		order string
		req   storage.PendingRequest
	}
	var entries []entry
	for f, v := range all {
		id, ok := strings.CutPrefix(f, "r:")
		if !ok {
			continue
		}
		req, err := decodePending(v, all["a:"+id])
		if err != nil {
			return nil, fail(ctx, op, sessionID, err)
		}
		entries = append(entries, entry{v[:20], req})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].order < entries[j].order })
	out := make([]storage.PendingRequest, len(entries))
	for i := range entries {
		out[i] = entries[i].req
	}
	return out, nil
}

// PendingAnswer implements storage.PendingStore: check, record and notify in one script.
func (s *Store) PendingAnswer(ctx context.Context, sessionID, id string, ans storage.PendingAnswer, now int64) (storage.PendingRequest, error) {
	const op = "pending answer"
	if err := check(ctx, op, sessionID); err != nil {
		return storage.PendingRequest{}, err
	}
	b, err := json.Marshal(ans)
	if err != nil {
		return storage.PendingRequest{}, fmt.Errorf("redisstore: %s: %w", op, err)
	}
	k := s.opts.keysFor(sessionID)
	res, err := s.eval(ctx, pendingAnswerScript, []string{s.pendingKey(sessionID)}, id, b, strconv.FormatInt(now, 10), k.channel, ephemeralPayload(storage.PendingNotice(id))).Slice()
	if err != nil {
		return storage.PendingRequest{}, fail(ctx, op, sessionID, err)
	}
	if len(res) == 0 {
		return storage.PendingRequest{}, fail(ctx, op, sessionID, errBadReply)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0:
		return storage.PendingRequest{}, storage.ErrPendingNotFound
	case 1:
		return storage.PendingRequest{}, storage.ErrPendingAnswered
	case 2:
		return storage.PendingRequest{}, storage.ErrPendingExpired
	}
	if len(res) < 2 {
		return storage.PendingRequest{}, fail(ctx, op, sessionID, errBadReply)
	}
	r, _ := res[1].(string)
	req, err := decodePending(r, string(b))
	if err != nil {
		return storage.PendingRequest{}, fail(ctx, op, sessionID, err)
	}
	return req, nil
}

// PendingDelete implements storage.PendingStore with one HDEL.
func (s *Store) PendingDelete(ctx context.Context, sessionID, id string) error {
	const op = "pending delete"
	if err := check(ctx, op, sessionID); err != nil {
		return err
	}
	if err := s.client.HDel(ctx, s.pendingKey(sessionID), "r:"+id, "a:"+id, "x:"+id).Err(); err != nil {
		return fail(ctx, op, sessionID, err)
	}
	return nil
}
