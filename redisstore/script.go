package redisstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
)

// appendScript appends one message, trims, maintains the id index, refreshes the TTL and
// publishes, all atomically, so history and live delivery agree on order.
//
// KEYS: 1 stream, 2 seq counter, 3 id index (hash: message id -> seq of retained entry).
// ARGV: 1 channel, 2 maxLen (<= 0: no trimming), 3 TTL in ms (0: none), 4 id, 5 type,
// 6 role, 7 content, 8 metadata ("" for none), 9 timestamp (decimal).
// Returns {1, seq} for a new record or {0, seq, fields} for a duplicate, where fields is the
// existing entry's field/value list.
//
// Only commands miniredis also implements are used (no cjson/cmsgpack). The stream entry id
// is "<seq>-0", so entry ids and sequence numbers are the same thing. Trimming is exact
// (XTRIM MAXLEN without "~"), so the oldest retained seq is always head-len+1.
var appendScript = redis.NewScript(`
local id = ARGV[4]
if id ~= '' then
  local old = redis.call('HGET', KEYS[3], id)
  if old then
    local e = redis.call('XRANGE', KEYS[1], old .. '-0', old .. '-0')
    if #e == 1 then
      return {0, old, e[1][2]}
    end
    redis.call('HDEL', KEYS[3], id)
  end
end
-- string.format keeps large sequence numbers out of Lua's %.14g number formatting.
local seq = string.format('%d', redis.call('INCR', KEYS[2]))
redis.call('XADD', KEYS[1], seq .. '-0', 'id', id, 'type', ARGV[5], 'role', ARGV[6],
  'content', ARGV[7], 'meta', ARGV[8], 'ts', ARGV[9])
if id ~= '' then
  redis.call('HSET', KEYS[3], id, seq)
end
local maxLen = tonumber(ARGV[2])
if maxLen > 0 then
  local n = redis.call('XLEN', KEYS[1]) - maxLen
  if n > 0 then
    local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', n)
    for _, e in ipairs(old) do
      local f = e[2]
      for i = 1, #f, 2 do
        if f[i] == 'id' then
          if f[i + 1] ~= '' then
            redis.call('HDEL', KEYS[3], f[i + 1])
          end
          break
        end
      end
    end
    redis.call('XTRIM', KEYS[1], 'MAXLEN', maxLen)
  end
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
local function lp(s) return #s .. ':' .. s end
redis.call('PUBLISH', ARGV[1], seq .. ':' .. ARGV[9] .. ':' .. lp(id) .. lp(ARGV[5]) ..
  lp(ARGV[6]) .. lp(ARGV[8]) .. ARGV[7])
return {1, seq}
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

// decodePayload parses a pub/sub payload built by appendScript:
// "<seq>:<ts>:" then length-prefixed ("<len>:<bytes>") id, type, role and metadata, then
// the content up to the end.
func decodePayload(p string) (core.Record, error) {
	var rec core.Record
	num := func() (string, bool) {
		i := strings.IndexByte(p, ':')
		if i <= 0 {
			return "", false
		}
		s := p[:i]
		p = p[i+1:]
		return s, true
	}
	field := func() (string, bool) {
		s, ok := num()
		if !ok {
			return "", false
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > len(p) {
			return "", false
		}
		v := p[:n]
		p = p[n:]
		return v, true
	}
	seqS, ok1 := num()
	tsS, ok2 := num()
	id, ok3 := field()
	typ, ok4 := field()
	role, ok5 := field()
	meta, ok6 := field()
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return rec, fmt.Errorf("%w: malformed pub/sub payload", errBadReply)
	}
	seq, err1 := strconv.ParseUint(seqS, 10, 64)
	ts, err2 := strconv.ParseInt(tsS, 10, 64)
	if err1 != nil || err2 != nil {
		return rec, fmt.Errorf("%w: malformed pub/sub payload header", errBadReply)
	}
	rec.Seq = seq
	rec.Message = core.Message{
		ID: id, Type: core.Type(typ), Role: core.Role(role), Content: p, Timestamp: ts,
	}
	if meta != "" {
		rec.Message.Metadata = []byte(meta)
	}
	return rec, nil
}
