package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/wshttp"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
)

// The same work in every implementation: a client's message (a JSON envelope) is decoded,
// given an id (when it has none), role "user" and a server timestamp; in session mode it is
// appended to the session's history (the newest historySize kept) and sent to every
// connection of the session; then the reply "Echo: <content>" (role "assistant") is
// appended and sent the same way. Stateless servers send only the reply, to the sender.
const historySize = 100

// envelope is the wire format the hand-written servers decode and encode with
// encoding/json, as a hand-written server would.
type envelope struct {
	ID        string          `json:"id,omitempty"`
	Type      string          `json:"type"`
	Role      string          `json:"role,omitempty"`
	Content   string          `json:"content"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Timestamp int64           `json:"timestamp,omitempty"`
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// userAndReply turns a client's frame into the stored user envelope and the reply.
func userAndReply(frame []byte) (user, reply []byte, err error) {
	var in envelope
	if err := json.Unmarshal(frame, &in); err != nil {
		return nil, nil, err
	}
	if in.ID == "" {
		in.ID = newID()
	}
	in.Role = "user"
	in.Timestamp = time.Now().UnixMilli()
	user, err = json.Marshal(in)
	if err != nil {
		return nil, nil, err
	}
	out := envelope{ID: newID(), Type: "message", Role: "assistant", Content: "Echo: " + in.Content, Timestamp: time.Now().UnixMilli()}
	reply, err = json.Marshal(out)
	return user, reply, err
}

// serveImpl returns the handler of the named implementation, a cleanup, and the path of its
// WebSocket endpoint.
func serveImpl(impl, redisAddr string) (http.Handler, func(), error) {
	switch impl {
	case "chatwire-stateless":
		return chatwireHandler(nil)
	case "chatwire-memory":
		return chatwireHandler(core.NewMemoryStore(core.MemoryStoreOptions{}))
	case "chatwire-redis":
		rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
		st, err := redisstore.New(rdb, redisstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		h, stop, err := chatwireHandler(st)
		return h, func() { stop(); _ = st.Close(); _ = rdb.Close() }, err
	case "melody-session":
		return melodySession()
	case "melody-stateless":
		return melodyStateless()
	case "gorilla-stateless":
		return gorillaStateless(), func() {}, nil
	case "centrifuge-memory":
		return centrifugeHandler("")
	case "centrifuge-redis":
		return centrifugeHandler(redisAddr)
	}
	return nil, nil, fmt.Errorf("unknown implementation %q", impl)
}

func chatwireHandler(store core.Store) (http.Handler, func(), error) {
	reply := core.HandlerFunc(func(ctx context.Context, req *core.Request, w *core.ReplyWriter) error {
		return w.Send(ctx, core.Message{Content: "Echo: " + req.Message.Content})
	})
	opts := core.Options{Handler: reply, MaxStoredMessages: historySize}
	if store != nil {
		opts.Store = store
	}
	hub := core.NewHub(opts)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
	}
	return wshttp.New(hub, wshttp.Options{}), stop, nil
}

// melodySession is the hand-written session server on melody: sessions with a history
// of historySize frames, a message and its reply stored and sent to every member.
func melodySession() (http.Handler, func(), error) {
	type session struct {
		mu      sync.Mutex
		hist    [][]byte
		members map[*melody.Session]struct{}
	}
	var mu sync.Mutex
	sessions := map[string]*session{}
	get := func(id string) *session {
		mu.Lock()
		defer mu.Unlock()
		s := sessions[id]
		if s == nil {
			s = &session{members: map[*melody.Session]struct{}{}}
			sessions[id] = s
		}
		return s
	}
	add := func(s *session, frame []byte) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.hist) == historySize {
			copy(s.hist, s.hist[1:])
			s.hist = s.hist[:historySize-1]
		}
		s.hist = append(s.hist, frame)
		for m := range s.members {
			_ = m.Write(frame)
		}
	}
	m := melody.New()
	m.Config.MaxMessageSize = 65536
	m.Config.MessageBufferSize = 512
	m.HandleConnect(func(ms *melody.Session) {
		s := get(ms.Request.URL.Query().Get("sessionId"))
		s.mu.Lock()
		s.members[ms] = struct{}{}
		if ms.Request.URL.Query().Get("history") == "all" {
			for _, f := range s.hist {
				_ = ms.Write(f)
			}
		}
		s.mu.Unlock()
		ms.Set("s", s)
	})
	m.HandleDisconnect(func(ms *melody.Session) {
		if v, ok := ms.Get("s"); ok {
			s := v.(*session)
			s.mu.Lock()
			delete(s.members, ms)
			s.mu.Unlock()
		}
	})
	m.HandleMessage(func(ms *melody.Session, frame []byte) {
		v, ok := ms.Get("s")
		if !ok {
			return
		}
		user, reply, err := userAndReply(frame)
		if err != nil {
			return
		}
		s := v.(*session)
		add(s, user)
		add(s, reply)
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = m.HandleRequest(w, r) })
	return h, func() { _ = m.Close() }, nil
}

func melodyStateless() (http.Handler, func(), error) {
	m := melody.New()
	m.Config.MaxMessageSize = 65536
	m.HandleMessage(func(ms *melody.Session, frame []byte) {
		if _, reply, err := userAndReply(frame); err == nil {
			_ = ms.Write(reply)
		}
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = m.HandleRequest(w, r) })
	return h, func() { _ = m.Close() }, nil
}

// gorillaStateless is a bare gorilla/websocket loop: read, decode, reply, write.
func gorillaStateless() http.Handler {
	up := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		for {
			_, frame, err := c.ReadMessage()
			if err != nil {
				return
			}
			_, reply, err := userAndReply(frame)
			if err != nil {
				continue
			}
			if c.WriteMessage(websocket.TextMessage, reply) != nil {
				return
			}
		}
	})
}

// serve runs impl on a loopback port and prints "listening <addr>" once it accepts.
func serve(impl, redisAddr string) error {
	h, stop, err := serveImpl(impl, redisAddr)
	if err != nil {
		return err
	}
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", h)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile) // for -profile
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening %s\n", ln.Addr())
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
