package redisstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Keys of one session (see keys): the history stream, whose entry ids are "<seq>-0", and
// the meta hash, which holds the history's state and its id index in one key:
//
//	~seq    head: the sequence of the newest record ever appended in this epoch
//	~epoch  the epoch (see storage.Record); absent when the session has no history
//	~first  the oldest retained sequence (records below it are trimmed, logically)
//	~low    the oldest sequence still physically in the stream
//	~touch  when the TTL was last refreshed (ms, the appending instance's clock)
//	m:<id>  the sequence of the record with message id <id>
//
// Trimming is logical at once and physical in batches: ~first follows maxLen on every
// append, and the entries (with their index fields) below it are removed only once they
// are trimSlack(maxLen) behind, so an append costs four commands (HMGET, XADD, HSET,
// PUBLISH) plus amortised trimming and TTL refreshes. Reads never return records below
// ~first, so the history behaves as if trimmed exactly. When a session's meta hash is
// gone (Redis restarted empty, a flush, expiry, eviction), the next append starts a new
// epoch at sequence 1.

// appendLua defines the Lua functions shared by appendScript and streamFinishScript.
//
// append_record appends one message, trims, maintains the id index, refreshes the TTL and
// publishes, so history and live delivery agree on order. Its arguments: the stream and
// meta keys, the channel, maxLen (<= 0: no trimming), TTL in ms (0: none), the caller's
// clock in ms, the epoch to start when the session has none, the message's id, type, role,
// content, metadata ("" for none) and timestamp (decimal), and tag, which is put in front
// of the published record payload (see decodeNotification). It returns {1, seq, epoch} for
// a new record or {0, seq, fields, epoch} for a duplicate, where fields is the existing
// entry's field/value list.
//
// Only commands miniredis also implements are used (no cjson/cmsgpack).
const appendLua = `
local function lp(s) return #s .. ':' .. s end

-- entry_id returns the message id of a stream entry's field list: the "r" field's (see
-- recordField), or an "id" field's in entries written before it.
local function entry_id(f)
  for k = 1, #f, 2 do
    if f[k] == 'r' then
      local r = f[k + 1]
      local p = string.find(r, ':', 1, true)
      local q = p and string.find(r, ':', p + 1, true)
      if not q then
        return ''
      end
      return string.sub(r, q + 1, q + tonumber(string.sub(r, p + 1, q - 1)))
    elseif f[k] == 'id' then
      return f[k + 1]
    end
  end
  return ''
end

local function append_record(kstream, kmeta, channel, maxLen, ttl, now, newEpoch, id, typ,
    role, content, meta, ts, tag)
  local mid = 'm:' .. id
  local h = redis.call('HMGET', kmeta, '~seq', '~epoch', '~first', '~low', '~touch', mid)
  local head, epoch = tonumber(h[1] or '0'), h[2]
  local first, low, touch = tonumber(h[3] or '1'), tonumber(h[4] or '1'), tonumber(h[5] or '0')
  maxLen, ttl, now = tonumber(maxLen), tonumber(ttl), tonumber(now)
  local fields = {}
  if not epoch then
    -- No history: a new epoch. Whatever an older one left (a stream whose meta hash was
    -- evicted) goes with it.
    redis.call('DEL', kstream, kmeta)
    epoch, head, first, low, touch = newEpoch, 0, 1, 1, 0
    fields = {'~epoch', epoch, '~first', '1', '~low', '1'}
  elseif id ~= '' and h[6] and tonumber(h[6]) >= first then
    local e = redis.call('XRANGE', kstream, h[6] .. '-0', h[6] .. '-0')
    if #e == 1 then
      return {0, h[6], e[1][2], epoch}
    end
  end
  -- string.format keeps large sequence numbers out of Lua's %.14g number formatting.
  local seq = string.format('%d', head + 1)
  local body = lp(id) .. lp(typ) .. lp(role) .. lp(meta) .. content
  redis.call('XADD', kstream, seq .. '-0', 'r', ts .. ':' .. body)
  fields[#fields + 1] = '~seq'
  fields[#fields + 1] = seq
  if id ~= '' then
    fields[#fields + 1] = mid
    fields[#fields + 1] = seq
  end
  if maxLen > 0 and head + 2 - maxLen > first then
    first = head + 2 - maxLen
    fields[#fields + 1] = '~first'
    fields[#fields + 1] = string.format('%d', first)
    local slack = math.max(1, math.min(64, math.floor(maxLen / 4)))
    if first - low >= slack then
      local old = redis.call('XRANGE', kstream, '-', string.format('%d', first - 1) .. '-0')
      -- Index fields of the trimmed entries, unless the id was stored again since.
      for i = 1, #old, 1000 do
        local names, seqs = {}, {}
        for j = i, math.min(i + 999, #old) do
          local f = old[j][2]
          local mid = entry_id(f)
          if mid ~= '' then
            names[#names + 1] = 'm:' .. mid
            seqs[#seqs + 1] = string.match(old[j][1], '^(%d+)')
          end
        end
        if #names > 0 then
          local cur = redis.call('HMGET', kmeta, unpack(names))
          local gone = {}
          for j = 1, #names do
            if cur[j] == seqs[j] then
              gone[#gone + 1] = names[j]
            end
          end
          if #gone > 0 then
            redis.call('HDEL', kmeta, unpack(gone))
          end
        end
      end
      redis.call('XTRIM', kstream, 'MAXLEN', head + 2 - first)
      fields[#fields + 1] = '~low'
      fields[#fields + 1] = string.format('%d', first)
    end
  end
  local refresh = ttl > 0 and math.abs(now - touch) * 4 >= ttl
  if refresh then
    fields[#fields + 1] = '~touch'
    fields[#fields + 1] = string.format('%d', now)
  end
  redis.call('HSET', kmeta, unpack(fields))
  if refresh then
    -- Refreshed at most every TTL/4, so keys live at least TTL after the last append.
    local px = ttl + math.floor(ttl / 4)
    redis.call('PEXPIRE', kstream, px)
    redis.call('PEXPIRE', kmeta, px)
  end
  redis.call('PUBLISH', channel, tag .. seq .. ':' .. ts .. ':' .. lp(epoch) .. body)
  return {1, seq, epoch}
end
`

// appendScript runs append_record (appendLua) for Store.Append, atomically.
//
// KEYS: 1 stream, 2 meta.
// ARGV: 1 channel, 2 maxLen, 3 TTL in ms, 4 now in ms, 5 new epoch, 6 id, 7 type, 8 role,
// 9 content, 10 metadata, 11 timestamp.
var appendScript = redis.NewScript(appendLua + `
return append_record(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
  ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], '')
`)

// readScript returns {head, epoch, first, entries}: the history's state and the retained
// entries after ARGV[1] (a sequence). KEYS: 1 stream, 2 meta. One script keeps them
// consistent.
var readScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[2], '~seq', '~epoch', '~first')
if not h[2] then
  return {'0', '', '1', {}}
end
local from = math.max(tonumber(ARGV[1]) + 1, tonumber(h[3] or '1'))
if from > tonumber(h[1]) then
  return {h[1], h[2], h[3] or '1', {}}
end
return {h[1], h[2], h[3] or '1', redis.call('XRANGE', KEYS[1], string.format('%d', from) .. '-0', '+')}
`)

// joinScript returns {head, epoch, first, anchor, entries}: the history's state, the
// sequence of message ARGV[1] (” for none) when it is retained and ARGV[2] is ” or the
// current epoch (else ”), and, when ARGV[3] is '1', the retained entries after it. It
// refreshes the TTL (ARGV[4] in ms, 0 for none) of the session's keys.
// KEYS: 1 stream, 2 meta, 3 set of running stream ids.
var joinScript = redis.NewScript(`
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  local px = ttl + math.floor(ttl / 4)
  for i = 1, 3 do
    redis.call('PEXPIRE', KEYS[i], px)
  end
end
local h = redis.call('HMGET', KEYS[2], '~seq', '~epoch', '~first', 'm:' .. ARGV[1])
if not h[2] then
  return {'0', '', '1', '', {}}
end
local first = tonumber(h[3] or '1')
local anchor = ''
if ARGV[1] ~= '' and h[4] and tonumber(h[4]) >= first and (ARGV[2] == '' or ARGV[2] == h[2]) then
  anchor = h[4]
end
local entries = {}
if ARGV[3] == '1' then
  local from = math.max(tonumber(anchor == '' and '0' or anchor) + 1, first)
  if from <= tonumber(h[1]) then
    entries = redis.call('XRANGE', KEYS[1], string.format('%d', from) .. '-0', '+')
  end
end
return {h[1], h[2], h[3] or '1', anchor, entries}
`)

// lookupScript returns the sequence of the retained message ARGV[1], or false.
// KEYS: 1 meta.
var lookupScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], '~first', 'm:' .. ARGV[1])
if h[2] and tonumber(h[2]) >= tonumber(h[1] or '1') then
  return h[2]
end
return false
`)

var errBadReply = errors.New("unexpected reply from Redis")

// parseUint reads a sequence number from a script reply element (integer or string).
func parseUint(v any) (uint64, error) {
	switch v := v.(type) {
	case int64:
		if v >= 0 {
			return uint64(v), nil
		}
	case string:
		return strconv.ParseUint(v, 10, 64)
	}
	return 0, fmt.Errorf("%w: sequence %v (%T)", errBadReply, v, v)
}

// recordField is the one field of a stream entry: the message as
// "<ts>:<lp:id><lp:type><lp:role><lp:meta><content>", the record payload without its
// sequence and epoch (see decodeNotification). Entries written before it have one field per
// message field (id, type, role, content, meta, ts); parseFields reads both.
const recordField = "r"

// decodeEntry decodes a recordField value.
func decodeEntry(v string) (core.Message, error) {
	r := payloadReader{p: v, ok: true}
	ts := r.int()
	id, typ, role, meta := r.field(), r.field(), r.field(), r.field()
	if !r.ok {
		return core.Message{}, fmt.Errorf("%w: malformed stream entry", errBadReply)
	}
	m := core.Message{ID: id, Type: core.Type(typ), Role: core.Role(role), Content: r.p, Timestamp: ts}
	if meta != "" {
		m.Metadata = []byte(meta)
	}
	return m, nil
}

// parseFields builds a message from a stream entry's field/value list.
func parseFields(v any) (core.Message, error) {
	list, ok := v.([]any)
	if !ok || len(list)%2 != 0 {
		return core.Message{}, fmt.Errorf("%w: entry fields %T", errBadReply, v)
	}
	var m core.Message
	for i := 0; i < len(list); i += 2 {
		k, _ := list[i].(string)
		val, ok := list[i+1].(string)
		if !ok {
			return core.Message{}, fmt.Errorf("%w: field %q is %T", errBadReply, k, list[i+1])
		}
		switch k {
		case recordField:
			return decodeEntry(val)
		case "id":
			m.ID = val
		case "type":
			m.Type = core.Type(val)
		case "role":
			m.Role = core.Role(val)
		case "content":
			m.Content = val
		case "meta":
			if val != "" {
				m.Metadata = []byte(val)
			}
		case "ts":
			ts, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return core.Message{}, fmt.Errorf("%w: timestamp %q", errBadReply, val)
			}
			m.Timestamp = ts
		}
	}
	return m, nil
}

// parseEntry builds a record from one XRANGE element {id, fields}; ids are "<seq>-0".
func parseEntry(v any) (storage.Record, error) {
	e, ok := v.([]any)
	if !ok || len(e) != 2 {
		return storage.Record{}, fmt.Errorf("%w: stream entry %T", errBadReply, v)
	}
	id, _ := e[0].(string)
	seqPart, _, _ := strings.Cut(id, "-")
	seq, err := strconv.ParseUint(seqPart, 10, 64)
	if err != nil {
		return storage.Record{}, fmt.Errorf("%w: stream entry id %q", errBadReply, id)
	}
	m, err := parseFields(e[1])
	if err != nil {
		return storage.Record{}, err
	}
	return storage.Record{Seq: seq, Message: m}, nil
}
