package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/middleware"
)

// LoginPath is where the examples' -auth serves Login.
const LoginPath = "/login"

// Auth is the examples' -auth: it issues and checks signed tokens
// "<name>.<expiry unix>.<signature>" and remembers which user opened each session. A real
// service would use its identity provider's tokens. It is safe for concurrent use.
type Auth struct {
	key []byte
	ttl time.Duration

	mu     sync.Mutex
	owners map[string]string // session id -> user
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,32}$`)

// NewAuth returns an Auth whose tokens live ttl, signed with a random key.
func NewAuth(ttl time.Duration) *Auth {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Auth{key: key, ttl: ttl, owners: make(map[string]string)}
}

func (a *Auth) sign(payload string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Login (at LoginPath) sets the token cookie for ?name= and sends the browser back to the
// chat page (to ?next= when it is a local path, else /).
func (a *Auth) Login(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if !validName.MatchString(name) {
		http.Error(w, "name: 1-32 letters, digits, '-' or '_'", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: middleware.DefaultCookie, Value: a.Token(name), Path: "/",
		MaxAge: int(a.ttl.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

var errBadToken = errors.New("demo: bad token")

// verify is the middleware.Verifier: the principal is the user name.
func (a *Auth) verify(_ context.Context, token string) (any, time.Time, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || !hmac.Equal([]byte(token[i+1:]), []byte(a.sign(token[:i]))) {
		return nil, time.Time{}, errBadToken
	}
	name, exp, _ := strings.Cut(token[:i], ".")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return nil, time.Time{}, errBadToken
	}
	return name, time.Unix(unix, 0), nil
}

// authorize lets a user into sessions nobody owns yet (claiming them) and their own.
func (a *Auth) authorize(_ context.Context, principal any, sessionID string) error {
	if sessionID == "" {
		return nil // a new session: the hub picks its id; claimed in OnConnect
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if owner, ok := a.owners[sessionID]; ok && owner != principal {
		return middleware.ErrSessionDenied
	}
	a.owners[sessionID] = principal.(string)
	return nil
}

// Hooks authenticates upgrades (Bearer, cookie, subprotocol or ?token=) and lets a user into
// sessions nobody owns yet (claiming them) and their own: anyone else is refused with 404
// SESSION_NOT_FOUND.
func (a *Auth) Hooks() middleware.Hooks {
	return middleware.Hooks{
		Admit: middleware.Admit(
			middleware.Auth(middleware.AuthOptions{Verify: a.verify, Sources: []middleware.Source{
				middleware.FromBearer(), middleware.FromCookie(middleware.DefaultCookie),
				middleware.FromSubprotocol(middleware.DefaultSubprotocolPrefix), middleware.FromQuery("token"),
			}}),
			middleware.AuthorizeSession(a.authorize),
		),
		OnConnect: func(ev core.ConnEvent) { // claim sessions whose id the hub picked
			_ = a.authorize(context.Background(), ev.Principal, ev.SessionID)
		},
	}
}

// Token returns a token for name, as Login would set it.
func (a *Auth) Token(name string) string {
	payload := name + "." + strconv.FormatInt(time.Now().Add(a.ttl).Unix(), 10)
	return payload + "." + a.sign(payload)
}
