package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/chatwire/chatwire/core"
)

// Counter counts held connection slots by key. The in-memory MemoryCounter serves one
// process; a shared one (package redislimit) makes caps hold across instances.
type Counter interface {
	// Acquire takes one of limit slots under key. It reports ok=false, taking nothing, when
	// all are held. When ok, release gives the slot back; it may be called more than once.
	Acquire(ctx context.Context, key string, limit int) (release func(), ok bool, err error)
}

// CapOptions configures Caps. Each zero cap means "no cap".
type CapOptions struct {
	// PerPrincipal caps the connections of one principal (by PrincipalKey). Connections
	// without a principal key are not counted. Default: no cap.
	PerPrincipal int
	// PerSession caps the connections to one session. Requests for a new session are not
	// counted (their session id is chosen after admission). Default: no cap.
	PerSession int
	// PerIP caps the connections from one client address (by ClientIP). Default: no cap.
	PerIP int
	// PrincipalKey names a principal ("" for none). Default: PrincipalID.
	PrincipalKey func(principal any) string
	// ClientIP returns the client's address. Default: the host part of RemoteAddr. Behind a
	// reverse proxy, return the address your proxy reports (and only trust headers your own
	// proxy sets).
	ClientIP func(req *core.AdmitRequest) string
	// Counter holds the counts, under the keys "ip:<ip>", "principal:<key>" and
	// "session:<session id>". Default: a new MemoryCounter per Caps call.
	Counter Counter
	// FailClosed refuses connections with 503 while the Counter fails. Default: false,
	// which admits them uncounted and logs a warning.
	FailClosed bool
	// Logger receives Counter failures. Default: nil, which discards them.
	Logger *slog.Logger
}

// Caps returns an AdmitFunc that caps concurrent connections per client address, per
// principal and per session. Each admitted connection holds one slot of each cap that
// applies, given back when the connection ends (Admission.Release). An upgrade over a cap
// is refused with 429 Too Many Requests and a text body naming the cap. Place it after Auth
// (Admit, Chain) so it sees the verified principal.
func Caps(opts CapOptions) core.AdmitFunc {
	key := opts.PrincipalKey
	if key == nil {
		key = PrincipalID
	}
	ipOf := opts.ClientIP
	if ipOf == nil {
		ipOf = RemoteIP
	}
	counter := opts.Counter
	if counter == nil {
		counter = NewMemoryCounter()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	perIP, perPrincipal, perSession, failClosed := opts.PerIP, opts.PerPrincipal, opts.PerSession, opts.FailClosed
	return func(ctx context.Context, req *core.AdmitRequest) (core.Admission, error) {
		type slot struct {
			key, what string
			limit     int
		}
		var slots [3]slot
		n := 0
		if perIP > 0 {
			if ip := ipOf(req); ip != "" {
				slots[n] = slot{"ip:" + ip, "this address", perIP}
				n++
			}
		}
		if perPrincipal > 0 {
			if id := key(req.Principal); id != "" {
				slots[n] = slot{"principal:" + id, "this user", perPrincipal}
				n++
			}
		}
		if perSession > 0 && req.SessionID != "" {
			slots[n] = slot{"session:" + req.SessionID, "this session", perSession}
			n++
		}
		var releases []func()
		for _, s := range slots[:n] {
			release, ok, err := counter.Acquire(ctx, s.key, s.limit)
			if err != nil {
				if failClosed {
					releaseAll(releases)
					return core.Admission{}, &core.HandshakeError{Status: http.StatusServiceUnavailable, Body: "Service Unavailable"}
				}
				log.Warn("chatwire: connection counter failed; connection admitted uncounted", "cap", s.what, "err", err)
				continue
			}
			if !ok {
				releaseAll(releases)
				return core.Admission{}, &core.HandshakeError{
					Status: http.StatusTooManyRequests,
					Body:   fmt.Sprintf("Too many connections for %s (limit %d)", s.what, s.limit),
				}
			}
			releases = append(releases, release)
		}
		if len(releases) == 0 {
			return core.Admission{}, nil
		}
		return core.Admission{Release: func() { releaseAll(releases) }}, nil
	}
}

// RemoteIP returns the host part of req.RemoteAddr (the whole value when it has no port).
func RemoteIP(req *core.AdmitRequest) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}
