package redisstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
)

// appendLua defines the Lua functions shared by appendScript and streamFinishScript.
//
// append_record appends one message, trims, maintains the id index, refreshes the TTL and
// publishes, so history and live delivery agree on order. Its arguments: the stream, seq
// counter and id index (hash: message id -> seq of retained entry) keys, the channel,
// maxLen (<= 0: no trimming), TTL in ms (0: none), the message's id, type, role, content,
// metadata ("" for none) and timestamp (decimal), and tag, which is put in front of the
// published record payload (see decodeNotification). It returns {1, seq} for a new record
// or {0, seq, fields} for a duplicate, where fields is the existing entry's field/value list.
//
// Only commands miniredis also implements are used (no cjson/cmsgpack). The stream entry id
// is "<seq>-0", so entry ids and sequence numbers are the same thing. Trimming is exact
// (XTRIM MAXLEN without "~"), so the oldest retained seq is always head-len+1.
const appendLua = `
local function lp(s) return #s .. ':' .. s end

local function append_record(kstream, kseq, kids, channel, maxLen, ttl, id, typ, role,
    content, meta, ts, tag)
  if id ~= '' then
    local old = redis.call('HGET', kids, id)
    if old then
      local e = redis.call('XRANGE', kstream, old .. '-0', old .. '-0')
      if #e == 1 then
        return {0, old, e[1][2]}
      end
      redis.call('HDEL', kids, id)
    end
  end
  -- string.format keeps large sequence numbers out of Lua's %.14g number formatting.
  local seq = string.format('%d', redis.call('INCR', kseq))
  redis.call('XADD', kstream, seq .. '-0', 'id', id, 'type', typ, 'role', role,
    'content', content, 'meta', meta, 'ts', ts)
  if id ~= '' then
    redis.call('HSET', kids, id, seq)
  end
  maxLen = tonumber(maxLen)
  if maxLen > 0 then
    local n = redis.call('XLEN', kstream) - maxLen
    if n > 0 then
      local old = redis.call('XRANGE', kstream, '-', '+', 'COUNT', n)
      for _, e in ipairs(old) do
        local f = e[2]
        for i = 1, #f, 2 do
          if f[i] == 'id' then
            if f[i + 1] ~= '' then
              redis.call('HDEL', kids, f[i + 1])
            end
            break
          end
        end
      end
      redis.call('XTRIM', kstream, 'MAXLEN', maxLen)
    end
  end
  ttl = tonumber(ttl)
  if ttl > 0 then
    redis.call('PEXPIRE', kstream, ttl)
    redis.call('PEXPIRE', kseq, ttl)
    redis.call('PEXPIRE', kids, ttl)
  end
  redis.call('PUBLISH', channel, tag .. seq .. ':' .. ts .. ':' .. lp(id) .. lp(typ) ..
    lp(role) .. lp(meta) .. content)
  return {1, seq}
end
`

// appendScript runs append_record (appendLua) for Store.Append, atomically.
//
// KEYS: 1 stream, 2 seq counter, 3 id index.
// ARGV: 1 channel, 2 maxLen, 3 TTL in ms, 4 id, 5 type, 6 role, 7 content, 8 metadata,
// 9 timestamp.
var appendScript = redis.NewScript(appendLua + `
return append_record(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
  ARGV[6], ARGV[7], ARGV[8], ARGV[9], '')
`)

// readScript returns {head, entries}: the sequence counter and the stream entries from
// ARGV[1] on. KEYS: 1 stream, 2 seq counter. One script keeps both consistent.
var readScript = redis.NewScript(`
local head = redis.call('GET', KEYS[2])
if not head then
  return {'0', {}}
end
return {head, redis.call('XRANGE', KEYS[1], ARGV[1], '+')}
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
func parseEntry(v any) (core.Record, error) {
	e, ok := v.([]any)
	if !ok || len(e) != 2 {
		return core.Record{}, fmt.Errorf("%w: stream entry %T", errBadReply, v)
	}
	id, _ := e[0].(string)
	seqPart, _, _ := strings.Cut(id, "-")
	seq, err := strconv.ParseUint(seqPart, 10, 64)
	if err != nil {
		return core.Record{}, fmt.Errorf("%w: stream entry id %q", errBadReply, id)
	}
	m, err := parseFields(e[1])
	if err != nil {
		return core.Record{}, err
	}
	return core.Record{Seq: seq, Message: m}, nil
}
