package core

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/chatwire/chatwire/storage"
)

// ConversationOptions configures the conversation directory (Options.Conversations): a live
// list of each owner's conversations (sessions) and calls to create, open (switch to),
// rename, clear and delete them over the connection. PROTOCOL.md describes the frames.
type ConversationOptions struct {
	// Enabled turns the directory on. Options.Store must then implement storage.DirectoryStore
	// (MemoryStore and redisstore.Store do); NewHub panics otherwise. Default: false.
	Enabled bool

	// Owner returns the owner of a connection's directory from its principal and upgrade
	// headers. "" means the connection has no directory: it works as a plain session (of a
	// session no owner has claimed; an owned one is refused with 404 SESSION_NOT_FOUND) and
	// conversation calls are answered with CONVERSATIONS_UNAVAILABLE. Applications without
	// authentication choose their fallback here, for example an anonymous device cookie
	// (whoever presents the cookie then owns those conversations). Default: DefaultOwner,
	// the principal when it is a string or a fmt.Stringer, else "".
	Owner func(principal any, header http.Header) string

	// Authorize, when set, is asked whether principal may open sessionID before a
	// connection switches to one of its owner's conversations. Give it the function passed
	// to middleware.AuthorizeSession so that switching and connecting agree. Any error
	// refuses with SESSION_NOT_FOUND. Default: nil (the directory's ownership check only).
	Authorize func(ctx context.Context, principal any, sessionID string) error

	// MaxPerOwner bounds the conversations of one owner; creating one more is refused
	// with CONVERSATION_LIMIT. Default: 1000.
	MaxPerOwner int

	// PageSize is the number of conversations in one list frame, and the most a client may
	// ask for. Default: DefaultConversationPage (50).
	PageSize int
}

// Defaults of ConversationOptions.
const (
	DefaultMaxConversations = 1000
	DefaultConversationPage = 50
)

// DefaultOwner is ConversationOptions.Owner's default: the principal itself when it is a
// string, its String method's result when it is a fmt.Stringer, else "" (no directory).
func DefaultOwner(principal any, _ http.Header) string {
	switch p := principal.(type) {
	case string:
		return p
	case fmt.Stringer:
		return p.String()
	}
	return ""
}

func (o ConversationOptions) withDefaults() ConversationOptions {
	if o.Owner == nil {
		o.Owner = DefaultOwner
	}
	if o.MaxPerOwner <= 0 {
		o.MaxPerOwner = DefaultMaxConversations
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultConversationPage
	}
	return o
}

// directoryHub is a hub's side of the conversation directory: one store subscription per
// owner with local connections, fanned out to those connections.
type directoryHub struct {
	h     *Hub
	store storage.DirectoryStore
	opts  ConversationOptions

	mu     sync.Mutex
	owners map[string]*ownerWatch
}

// newDirectoryHub returns nil when conversations are disabled.
func newDirectoryHub(h *Hub, o Options) *directoryHub {
	if !o.Conversations.Enabled {
		return nil
	}
	ds, ok := o.Store.(storage.DirectoryStore)
	if !ok {
		panic("chatwire: Options.Conversations.Enabled needs an Options.Store that implements core.DirectoryStore")
	}
	return &directoryHub{h: h, store: ds, opts: o.Conversations.withDefaults(), owners: make(map[string]*ownerWatch)}
}

// ownerWatch is one owner's directory subscription and the local connections of the owner.
type ownerWatch struct {
	d     *directoryHub
	owner string
	refs  int           // guarded by d.mu
	ready chan struct{} // closed once subscribed; err is then set
	err   error
	unsub func()

	mu        sync.Mutex
	conns     map[*connection]struct{}
	closed    bool
	resyncing bool
}

// acquire returns owner's running watch, subscribing on first use.
func (d *directoryHub) acquire(ctx context.Context, owner string) (*ownerWatch, error) {
	d.mu.Lock()
	if w := d.owners[owner]; w != nil {
		w.refs++
		d.mu.Unlock()
		select {
		case <-w.ready:
		case <-ctx.Done():
			d.release(w)
			return nil, ctx.Err()
		}
		if w.err != nil {
			d.release(w)
			return nil, w.err
		}
		return w, nil
	}
	w := &ownerWatch{d: d, owner: owner, refs: 1, ready: make(chan struct{}), conns: make(map[*connection]struct{})}
	d.owners[owner] = w
	d.mu.Unlock()
	sctx, cancel := d.h.storeCtx(ctx)
	unsub, err := d.store.SubscribeDirectory(sctx, owner, w.notify)
	cancel()
	w.unsub, w.err = unsub, err
	close(w.ready)
	if err != nil {
		d.release(w)
		return nil, err
	}
	return w, nil
}

// release drops one reference; the last one unsubscribes.
func (d *directoryHub) release(w *ownerWatch) {
	d.mu.Lock()
	w.refs--
	last := w.refs == 0
	if last && d.owners[w.owner] == w {
		delete(d.owners, w.owner)
	}
	d.mu.Unlock()
	if !last {
		return
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	if w.unsub != nil {
		w.unsub() // outside every lock: it waits for a notify in flight
	}
}

func (w *ownerWatch) add(c *connection) {
	w.mu.Lock()
	w.conns[c] = struct{}{}
	w.mu.Unlock()
}

func (w *ownerWatch) remove(c *connection) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
}

// notify is the directory subscription callback. It never blocks on I/O.
func (w *ownerWatch) notify(ev storage.DirectoryEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if ev.Resync {
		if !w.resyncing {
			w.resyncing = true
			w.d.h.wg.Add(1)
			go w.resync()
		}
		return
	}
	for c := range w.conns {
		c.deliverDirectory(ev)
	}
}

// resync sends every local connection of the owner the current list after events may have
// been lost. Store failures are retried with backoff until the store answers or the watch
// ends.
func (w *ownerWatch) resync() {
	h := w.d.h
	defer h.wg.Done()
	for attempt := 0; ; attempt++ {
		ctx, cancel := h.storeCtx(h.baseCtx)
		page, err := w.d.store.ListConversations(ctx, w.owner, "", w.d.opts.PageSize)
		cancel()
		w.mu.Lock()
		if w.closed || h.baseCtx.Err() != nil {
			w.resyncing = false
			w.mu.Unlock()
			return
		}
		if err == nil {
			w.resyncing = false
			for c := range w.conns {
				c.send(listMessage(page, ""))
			}
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		h.log.Warn("chatwire: reading the conversation list failed", "err", err)
		if !sleepCtx(h.baseCtx, backoffDelay(attempt)) {
			w.mu.Lock()
			w.resyncing = false
			w.mu.Unlock()
			return
		}
	}
}
