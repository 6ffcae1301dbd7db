package redisstore

import "github.com/redis/go-redis/v9"

// Conversation directories (storage.DirectoryStore). Each owner's keys share the hash tag
// {<owner hash>}, so one script may use them together on a cluster:
//
//	<prefix>dir:{<h>}:z     sorted set: conversation id, scored by last activity (ms)
//	<prefix>dir:{<h>}:e     hash: conversation id -> entry
//	                        "<created>|<lastActive>|<messages>|<running 0/1>|<cleared>|<title>"
//	                        (cleared: when it was last cleared, ms; 0 for never)
//	<prefix>dir:{<h>}:live  channel of the owner's directory events
//
// The claim of a session is the string <prefix>{<session id>}:owner (the owner), in the
// session's slot. Events are published as ephemeral payloads (see payload.go) whose content
// is "<kind>|<id>|<entry>", so the Store's one pub/sub connection and reader carry them.
//
// Entries are dropped when their last activity is older than the session TTL (the scripts'
// cutoff argument; 0 keeps them), the same rule that lets a session's keys expire.
const dirLua = `
local function dec(s)
  local c, la, n, r, cl, t = string.match(s, '^(%-?%d+)|(%-?%d+)|(%d+)|([01])|(%-?%d+)|(.*)$')
  if not c then return nil end
  return {tonumber(c), tonumber(la), tonumber(n), r, t, tonumber(cl)}
end

local function enc(e)
  return string.format('%d|%d|%d|%s|%d|', e[1], e[2], e[3], e[4], e[6]) .. e[5]
end

local function prune(z, h, cutoff)
  cutoff = tonumber(cutoff)
  if cutoff > 0 then
    local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
    for _, id in ipairs(old) do redis.call('HDEL', h, id) end
    if #old > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff) end
  end
end

local function touch(z, h, ttl)
  ttl = tonumber(ttl)
  if ttl > 0 then
    redis.call('PEXPIRE', z, ttl)
    redis.call('PEXPIRE', h, ttl)
  end
end

-- prefix is an ephemeral payload with empty content, made by the Store (dirEventPrefix),
-- so the event's text is the content of an ephemeral message whatever the payload format.
local function publish(channel, prefix, kind, id, entry)
  redis.call('PUBLISH', channel, prefix .. kind .. '|' .. id .. '|' .. entry)
end
`

// dirCreateScript adds an entry unless it exists or the directory is full.
// KEYS: 1 sorted set, 2 hash. ARGV: 1 id, 2 title, 3 created, 4 max (0: none), 5 TTL ms,
// 6 channel, 7 cutoff, 8 event payload prefix. Returns {1, entry} (new), {0, entry}
// (existing) or {-1} (full).
var dirCreateScript = redis.NewScript(dirLua + `
prune(KEYS[1], KEYS[2], ARGV[7])
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then return {0, cur} end
local max = tonumber(ARGV[4])
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return {-1} end
local entry = enc({tonumber(ARGV[3]), tonumber(ARGV[3]), 0, '0', ARGV[2], 0})
redis.call('HSET', KEYS[2], ARGV[1], entry)
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
touch(KEYS[1], KEYS[2], ARGV[5])
publish(ARGV[6], ARGV[8], 'created', ARGV[1], entry)
return {1, entry}
`)

// dirUpdateScript changes an entry and publishes the result.
// KEYS: 1 sorted set, 2 hash. ARGV: 1 id, 2 "1" to set the title, 3 title, 4 active (ms,
// 0: unchanged), 5 messages to add, 6 running ("", "0" or "1"), 7 event kind, 8 channel,
// 9 TTL ms, 10 cutoff, 11 "1" to reset the message count and running flag (clear), 12 event
// payload prefix.
// Returns the new entry, or false when there is none.
var dirUpdateScript = redis.NewScript(dirLua + `
prune(KEYS[1], KEYS[2], ARGV[10])
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if not cur then return false end
local e = dec(cur)
if not e then return false end
if ARGV[2] == '1' then e[5] = ARGV[3] end
local active = tonumber(ARGV[4])
if active > e[2] then e[2] = active end
if active >= e[6] then e[3] = e[3] + tonumber(ARGV[5]) end
if ARGV[6] ~= '' then e[4] = ARGV[6] end
if ARGV[11] == '1' then e[3] = 0; e[4] = '0'; e[6] = active end
local entry = enc(e)
redis.call('HSET', KEYS[2], ARGV[1], entry)
redis.call('ZADD', KEYS[1], e[2], ARGV[1])
touch(KEYS[1], KEYS[2], ARGV[9])
publish(ARGV[8], ARGV[12], ARGV[7], ARGV[1], entry)
return entry
`)

// dirDeleteScript removes an entry and publishes its deletion.
// KEYS: 1 sorted set, 2 hash. ARGV: 1 id, 2 channel, 3 cutoff, 4 event payload prefix.
// Returns 1, or 0 when there was no entry.
var dirDeleteScript = redis.NewScript(dirLua + `
prune(KEYS[1], KEYS[2], ARGV[3])
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
publish(ARGV[2], ARGV[4], 'deleted', ARGV[1], '0|0|0|0|0|')
return 1
`)

// dirListScript returns {id, entry, id, entry, ...} for up to ARGV[1]+1 entries, newest first
// (ties by id, descending), after the cursor (ARGV[2] "1" when set: ARGV[3] score, ARGV[4]
// id). KEYS: 1 sorted set, 2 hash. ARGV[5]: cutoff.
var dirListScript = redis.NewScript(dirLua + `
prune(KEYS[1], KEYS[2], ARGV[5])
local limit = tonumber(ARGV[1]) + 1
local items
local after = ARGV[2] == '1'
local score = tonumber(ARGV[3])
if after then
  local ties = redis.call('ZCOUNT', KEYS[1], score, score)
  items = redis.call('ZREVRANGEBYSCORE', KEYS[1], score, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + ties)
else
  items = redis.call('ZREVRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')
end
local out = {}
for i = 1, #items, 2 do
  local id, sc = items[i], tonumber(items[i + 1])
  if (not after) or sc < score or (sc == score and id < ARGV[4]) then
    local entry = redis.call('HGET', KEYS[2], id)
    if entry then
      table.insert(out, id)
      table.insert(out, entry)
    end
    if #out >= 2 * limit then break end
  end
end
return out
`)

// claimScript claims a session for an owner.
// KEYS: 1 the session's owner key. ARGV: 1 owner, 2 TTL ms (0: none). Returns 0 (claimed
// by another owner, or deleted: the tombstone never equals an owner), 1 (already this
// owner's) or 2 (claimed now).
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
if cur then return 1 end
return 2
`)

// unclaimScript removes a claim if it is the owner's. KEYS: 1 owner key. ARGV: 1 owner.
var unclaimScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// tombstone is the value of a deleted session's owner key (owners have no control
// characters, so it never equals one).
const tombstone = "\x00deleted"

// buryScript turns an owner's claim into the tombstone, for the session TTL.
// KEYS: 1 owner key. ARGV: 1 owner, 2 tombstone, 3 TTL ms (0: none).
var buryScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`)

// clearSessionScript removes a session's history, id index and running streams, keeping
// its head sequence and epoch (so sequence numbers go on in the same epoch): the meta hash
// is rewritten with ~first and ~low after the head (see script.go), its TTL kept.
// KEYS: 1 history stream, 2 meta hash, 3 set of running stream ids. ARGV: 1 the session's
// key base.
var clearSessionScript = redis.NewScript(`
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('DEL', ARGV[1] .. 'st:' .. id, ARGV[1] .. 'text:' .. id)
end
redis.call('DEL', KEYS[1], KEYS[3])
local h = redis.call('HMGET', KEYS[2], '~seq', '~epoch', '~touch')
if not h[2] then
  redis.call('DEL', KEYS[2])
  return 1
end
local ttl = redis.call('PTTL', KEYS[2])
redis.call('DEL', KEYS[2])
local head = tonumber(h[1] or '0')
local next = string.format('%d', head + 1)
redis.call('HSET', KEYS[2], '~seq', h[1] or '0', '~epoch', h[2], '~first', next, '~low', next, '~touch', h[3] or '0')
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`)
