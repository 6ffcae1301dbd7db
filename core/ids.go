package core

import (
	"crypto/rand"
	"encoding/hex"
)

// MaxSessionIDLen is the longest session id accepted, in bytes.
const MaxSessionIDLen = 128

// ValidSessionID reports whether id may name a session: 1 to MaxSessionIDLen bytes of
// ASCII letters, digits, '-', '_', '.' and ':'. Adapters reject other ids with HTTP 400
// before the upgrade, so no store ever sees them (they cannot smuggle key patterns or
// Redis Cluster hash tags).
func ValidSessionID(id string) bool {
	if len(id) == 0 || len(id) > MaxSessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// NewID returns a random RFC 4122 version 4 UUID in its canonical 36-character form, the
// kind of id the hub gives to sessions and messages that arrive without one.
func NewID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never returns an error (Go 1.24+).
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
