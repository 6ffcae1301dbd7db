// Command nethttp serves the chatwire echo bot from net/http: the chat endpoint at /chat
// (persistent sessions on the in-memory store, or on Redis with -redis URL), a browser
// page at /, and the readiness endpoint at /readyz (503 while draining after SIGTERM).
// Connections are logged with log/slog (no message contents, no tokens).
//
//	go run ./examples/nethttp -addr :8080 [-stream] [-redis redis://localhost:6379/0] [-auth]
//
// With -auth, the chat endpoint requires a token: open /login?name=alice to get one as a
// cookie (the page then connects with it), or pass it as "Authorization: Bearer", as the
// subprotocol "chatwire.token.<token>" next to "chatwire", or as ?token= (redacted in
// logs). A session belongs to the first user who opens it: anyone else gets 404
// SESSION_NOT_FOUND. Tokens expire after -auth-ttl; the connection is then closed with 1008.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"log"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/middleware"
)

func main() {
	flags := demo.RegisterFlags(nil)
	withAuth := flag.Bool("auth", false, "require a token (get one at /login?name=alice) and bind each session to its first user")
	authTTL := flag.Duration("auth-ttl", time.Hour, "lifetime of the tokens /login issues (with -auth)")
	flag.Parse()

	store, closeStore, err := flags.OpenStore()
	if err != nil {
		log.Fatal(err)
	}
	defer closeStore()
	logger := demo.Logger()
	mux := http.NewServeMux()
	mw := middleware.Logging(logger, middleware.LogOptions{PrincipalID: middleware.PrincipalID})
	if *withAuth {
		a := newDemoAuth(*authTTL)
		mw = middleware.Chain(mw, a.hooks())
		mux.HandleFunc("/login", a.login)
	}
	hub := core.NewHub(mw.Apply(flags.HubOptions(flags.Bot(), store, logger)))

	mux.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
	mux.Handle("/", demo.Static())
	if err := demo.Serve(flags.Addr, mux, hub, flags.ServeOptions()); err != nil {
		log.Print(err)
	}
}

// demoAuth issues and checks signed tokens "<name>.<expiry unix>.<signature>" and remembers
// which user opened each session. A real service would use its identity provider's tokens.
type demoAuth struct {
	key []byte
	ttl time.Duration

	mu     sync.Mutex
	owners map[string]string // session id -> user
}

var validName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,32}$`)

func newDemoAuth(ttl time.Duration) *demoAuth {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &demoAuth{key: key, ttl: ttl, owners: make(map[string]string)}
}

func (a *demoAuth) sign(payload string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// login sets the token cookie for ?name= and sends the browser to the chat page.
func (a *demoAuth) login(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if !validName.MatchString(name) {
		http.Error(w, "name: 1-32 letters, digits, '-' or '_'", http.StatusBadRequest)
		return
	}
	payload := name + "." + strconv.FormatInt(time.Now().Add(a.ttl).Unix(), 10)
	http.SetCookie(w, &http.Cookie{
		Name: middleware.DefaultCookie, Value: payload + "." + a.sign(payload), Path: "/",
		MaxAge: int(a.ttl.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var errBadToken = errors.New("demo: bad token")

// verify is the middleware.Verifier: the principal is the user name.
func (a *demoAuth) verify(_ context.Context, token string) (any, time.Time, error) {
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
func (a *demoAuth) authorize(_ context.Context, principal any, sessionID string) error {
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

func (a *demoAuth) hooks() middleware.Hooks {
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
