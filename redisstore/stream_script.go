package redisstore

import "github.com/redis/go-redis/v9"

// Lease deadlines are kept in the stream's state hash as milliseconds of the Redis server's
// clock (TIME), not as a key with a PX expiry: every instance then judges a lease by the same
// clock, StreamSnapshot reports it in the same atomic step as the text, and it works on
// miniredis, whose key TTLs only move with FastForward.

// streamAppendScript appends a delta to a running stream (or starts it), refreshes the
// producer's lease and the session's TTL, and publishes the delta, atomically.
//
// KEYS: 1 set of running stream ids, 2 stream state hash {seq, started, deadline}, 3 stream
// text, 4 history stream, 5 the meta hash (the last two only for their TTL).
// ARGV: 1 channel, 2 stream id, 3 seq (decimal), 4 delta, 5 started (ms, decimal), 6 lease
// in ms, 7 TTL in ms (0: none).
// Returns {1} for a published delta, {2} for a lease refresh only (empty delta with the
// current seq), {0} when the stream is not running and seq is not 1, {-1, current seq} for
// an out-of-order seq.
var streamAppendScript = redis.NewScript(`
local function lp(s) return #s .. ':' .. s end
local h = redis.call('HMGET', KEYS[2], 'seq', 'started')
local seq = tonumber(ARGV[3])
local started = ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = {'deadline', string.format('%d', now + tonumber(ARGV[6]))}
if h[1] then
  local cur = tonumber(h[1])
  if seq == cur and ARGV[4] == '' then
    seq = nil
  elseif seq ~= cur + 1 then
    return {-1, string.format('%d', cur)}
  else
    started = h[2] or started
  end
elseif seq == 1 then
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call('DEL', KEYS[3])
  fields[#fields + 1] = 'started'
  fields[#fields + 1] = started
else
  return {0}
end
if seq then
  fields[#fields + 1] = 'seq'
  fields[#fields + 1] = ARGV[3]
  if ARGV[4] ~= '' then
    redis.call('APPEND', KEYS[3], ARGV[4])
  end
end
redis.call('HSET', KEYS[2], unpack(fields))
local ttl = tonumber(ARGV[7])
if ttl > 0 then
  for i = 1, 5 do
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
if not seq then
  return {2}
end
redis.call('PUBLISH', ARGV[1], 'd' .. ARGV[3] .. ':' .. started .. ':' .. lp(ARGV[2]) .. ARGV[4])
return {1}
`)

// streamSnapshotScript returns the running streams as a list of {id, seq, started, expired
// (0 or 1), text}, judging leases by the server's clock. Ids left in the set whose state
// expired on its own (its TTL ran out) are removed from the set and not returned.
//
// KEYS: 1 set of running stream ids. ARGV: 1 the session's key base "<prefix>{<sid>}:"
// (the state keys share the session's hash tag, so they are in KEYS[1]'s slot).
var streamSnapshotScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local st = redis.call('HMGET', ARGV[1] .. 'st:' .. id, 'seq', 'started', 'deadline')
  if st[1] then
    local expired = 0
    if tonumber(st[3] or '0') <= now then
      expired = 1
    end
    local text = redis.call('GET', ARGV[1] .. 'text:' .. id) or ''
    out[#out + 1] = {id, st[1], st[2] or '0', expired, text}
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
`)

// streamFinishScript ends a running stream: it removes its state and appends the final
// message with append_record (appendLua), publishing it tagged as the stream's end — all
// atomically, so no delta can follow the end and no snapshot can show the stream after it.
//
// KEYS: 1 history stream, 2 meta hash, 3 set of running stream ids, 4 stream state hash,
// 5 stream text.
// ARGV: 1-11 as appendScript's, 12 stream id.
// Returns {-1} when the stream is not running (nothing is appended), else append_record's
// reply.
var streamFinishScript = redis.NewScript(appendLua + `
local running = redis.call('EXISTS', KEYS[4]) == 1
redis.call('SREM', KEYS[3], ARGV[12])
redis.call('DEL', KEYS[4], KEYS[5])
if not running then
  return {-1}
end
return append_record(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
  ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], 'f' .. lp(ARGV[12]))
`)

// publishScript publishes ARGV[2] on channel ARGV[1] (StreamCancel and Publish). It is a
// script only for KEYS[1], the session's meta key, which is never touched: a cluster client
// sends a plain PUBLISH to any node but a script to its keys' node, the one that publishes
// everything else of the session, so subscribers see every kind in the order it happened.
var publishScript = redis.NewScript(`return redis.call('PUBLISH', ARGV[1], ARGV[2])`)

// streamReadScript returns {seq, text} of one running stream ({} when it is not running),
// for compaction. KEYS: state hash, text.
var streamReadScript = redis.NewScript(`
local seq = redis.call('HGET', KEYS[1], 'seq')
if not seq then
  return {}
end
return {seq, redis.call('GET', KEYS[2]) or ''}
`)

// streamCompactScript replaces a running stream's text with its compaction (ARGV[2]) if no
// delta was appended since it was read (its seq is still ARGV[1]), keeping the key's TTL.
// It returns 1 when it replaced the text. KEYS: state hash, text.
var streamCompactScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'seq') ~= ARGV[1] then
  return 0
end
local ttl = redis.call('PTTL', KEYS[2])
redis.call('SET', KEYS[2], ARGV[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`)
