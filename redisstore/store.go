package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Store is a storage.Store (streams included) backed by Redis. Create it with New and stop it
// with Close. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	opts   resolved

	ctx  context.Context // canceled by Close; stops the goroutines below
	stop context.CancelFunc
	// wg counts the pub/sub reader, the delivery and pipeline workers, the command worker
	// and the TTL keeper.
	wg sync.WaitGroup

	wake chan struct{} // tells the command worker that queue is not empty

	calls chan *scriptCall // script calls for the pipeline workers (pipeline.go); unbuffered

	fan fanout // delivery workers (fanout.go)

	epochPrefix string        // random, so that epochs of different Stores never collide
	epochSeq    atomic.Uint64 // makes this Store's epochs unique

	mu      sync.Mutex // guards the fields below; never held during I/O
	closed  bool
	ps      *redis.PubSub     // replaced when the connection is presumed dead
	topics  map[string]*topic // local subscribers by channel name
	queue   []command         // pub/sub commands for the worker, in registry order
	pings   map[string]chan error
	pingSeq uint64
}

var _ storage.Store = (*Store)(nil)

// New returns a Store that uses client, which the caller keeps owning (Close does not close
// it). client may be a *redis.Client, a *redis.ClusterClient or a failover client. New starts
// the Store's pub/sub reader, which holds one extra connection; it returns an error only for
// invalid options and does no I/O, so it succeeds while Redis is down.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	r, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Store{
		client: client,
		opts:   r,
		ctx:    ctx,
		stop:   stop,
		wake:   make(chan struct{}, 1),
		calls:  make(chan *scriptCall),
		ps:     client.Subscribe(ctx), // no channels yet: no I/O
		topics: make(map[string]*topic),
		pings:  make(map[string]chan error),
		// The random part of epochs: never equal to another Store's, even after a restart.
		epochPrefix: core.NewID()[:8] + core.NewID()[24:] + ".",
	}
	s.startWorkers()
	s.wg.Add(pipelineWorkers)
	for range pipelineWorkers {
		go s.pipelineLoop()
	}
	s.wg.Add(2)
	go s.readLoop()
	go s.commandLoop()
	if r.ttl > 0 {
		s.wg.Add(1)
		go s.keepAlive()
	}
	return s, nil
}

// Close stops the Store's goroutines and closes its pub/sub connection, waiting until they
// have ended. Subscribers get no further notifications and Subscribe fails afterwards;
// Append, Read and Lookup keep working as long as the client is open. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ps := s.ps
	s.mu.Unlock()
	s.stop()
	err := ps.Close() // unblocks the reader
	s.wg.Wait()
	s.endPings("", errClosed)
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redisstore: close pub/sub: %w", err)
	}
	return nil
}

// check validates the session id before any I/O, then the context.
func check(ctx context.Context, op, sessionID string) error {
	if !core.ValidSessionID(sessionID) {
		return fmt.Errorf("redisstore: %s: %q: %w", op, sessionID, core.ErrInvalidSessionID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return nil
}

// fail wraps an error from Redis. When ctx has ended, the error wraps the context's error
// (and the original); otherwise it wraps storage.ErrStoreUnavailable and the original.
func fail(ctx context.Context, op, sessionID string, err error) error {
	ctxErr := ctx.Err()
	var netErr net.Error
	if deadline, ok := ctx.Deadline(); ok && ctxErr == nil && errors.As(err, &netErr) &&
		netErr.Timeout() && !time.Now().Before(deadline) {
		// go-redis (with ContextTimeoutEnabled) sets the socket deadline to ctx's, so the
		// read can time out a moment before ctx notices its own deadline.
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("redisstore: %s %q: %w", op, sessionID, err)
		}
		return fmt.Errorf("redisstore: %s %q: %w: %w", op, sessionID, ctxErr, err)
	}
	return fmt.Errorf("redisstore: %s %q: %w: %w", op, sessionID, storage.ErrStoreUnavailable, err)
}

// Append implements storage.Store. The record is stored, trimmed to maxLen (maxLen <= 0 keeps
// everything), the TTL refreshed and the record published to every Store subscribed to the
// session, in one Lua script of four Redis commands (plus trimming and TTL refreshes
// amortised over many appends). A message with an empty ID is never a duplicate. If ctx
// ends while the script is in flight, the message may or may not have been stored;
// appending it again is safe, as a retained id is reported as storage.ErrDuplicate.
func (s *Store) Append(ctx context.Context, sessionID string, msg core.Message, maxLen int) (storage.Record, error) {
	if err := check(ctx, "append", sessionID); err != nil {
		return storage.Record{}, err
	}
	k := s.opts.keysFor(sessionID)
	res, err := s.eval(ctx, appendScript, []string{k.stream, k.meta},
		s.appendArgs(k, msg, maxLen)...).Slice()
	if err != nil {
		return storage.Record{}, fail(ctx, "append", sessionID, err)
	}
	rec, _, err := appendReply(ctx, "append", sessionID, msg, res)
	return rec, err
}

// appendArgs returns the ARGV of appendScript (the first arguments of streamFinishScript).
func (s *Store) appendArgs(k keys, msg core.Message, maxLen int) []any {
	return []any{k.channel, max(maxLen, 0), s.opts.ttlMillis(), time.Now().UnixMilli(), s.newEpoch(),
		msg.ID, string(msg.Type), string(msg.Role), msg.Content, []byte(msg.Metadata),
		strconv.FormatInt(msg.Timestamp, 10)}
}

// newEpoch returns an epoch no other call of any Store returns: the Store's random prefix
// and a counter. An append uses it only when the session has no history.
func (s *Store) newEpoch() string {
	return s.epochPrefix + strconv.FormatUint(s.epochSeq.Add(1), 36)
}

// appendReply interprets append_record's reply (see appendLua) for msg: the new record, or
// the retained one with storage.ErrDuplicate, and the history's epoch.
func appendReply(ctx context.Context, op, sessionID string, msg core.Message, res []any) (storage.Record, string, error) {
	if len(res) < 3 {
		return storage.Record{}, "", fail(ctx, op, sessionID, errBadReply)
	}
	seq, err := parseUint(res[1])
	if err != nil {
		return storage.Record{}, "", fail(ctx, op, sessionID, err)
	}
	if fresh, _ := res[0].(int64); fresh == 1 {
		epoch, _ := res[2].(string)
		if len(msg.Metadata) == 0 {
			msg.Metadata = nil // stored as "": read back as nil
		}
		return storage.Record{Seq: seq, Message: msg}, epoch, nil
	}
	if len(res) != 4 {
		return storage.Record{}, "", fail(ctx, op, sessionID, errBadReply)
	}
	existing, err := parseFields(res[2])
	if err != nil {
		return storage.Record{}, "", fail(ctx, op, sessionID, err)
	}
	epoch, _ := res[3].(string)
	return storage.Record{Seq: seq, Message: existing}, epoch,
		fmt.Errorf("redisstore: %s %q to %q: %w", op, msg.ID, sessionID, storage.ErrDuplicate)
}

// Read implements storage.Store with one script call, so the page is consistent.
func (s *Store) Read(ctx context.Context, sessionID string, afterSeq uint64) (storage.Page, error) {
	if err := check(ctx, "read", sessionID); err != nil {
		return storage.Page{}, err
	}
	k := s.opts.keysFor(sessionID)
	res, err := s.eval(ctx, readScript, []string{k.stream, k.meta}, formatAfter(afterSeq)).Slice()
	if err != nil {
		return storage.Page{}, fail(ctx, "read", sessionID, err)
	}
	if len(res) != 4 {
		return storage.Page{}, fail(ctx, "read", sessionID, errBadReply)
	}
	page, err := parsePage(res[0], res[1], res[2], res[3], afterSeq)
	if err != nil {
		return storage.Page{}, fail(ctx, "read", sessionID, err)
	}
	return page, nil
}

// formatAfter is a sequence argument of readScript and joinScript; Lua's numbers are
// doubles, so the largest sequences are capped (no history reaches them).
func formatAfter(seq uint64) string {
	return strconv.FormatUint(min(seq, 1<<53), 10)
}

// parsePage builds the page of records after afterSeq from a script's head, epoch, first
// retained sequence and entries.
func parsePage(headV, epochV, firstV, entriesV any, afterSeq uint64) (storage.Page, error) {
	head, err := parseUint(headV)
	if err != nil {
		return storage.Page{}, err
	}
	first, err := parseUint(firstV)
	if err != nil {
		return storage.Page{}, err
	}
	epoch, _ := epochV.(string)
	entries, _ := entriesV.([]any)
	page := storage.Page{Head: head, Epoch: epoch}
	if len(entries) > 0 {
		page.Records = make([]storage.Record, 0, len(entries))
	}
	for _, e := range entries {
		rec, err := parseEntry(e)
		if err != nil {
			return storage.Page{}, err
		}
		page.Records = append(page.Records, rec)
	}
	page.Trimmed = afterSeq < head && afterSeq+1 < first
	return page, nil
}

// Lookup implements storage.Store with one script call (one HMGET of the meta hash).
func (s *Store) Lookup(ctx context.Context, sessionID, messageID string) (uint64, bool, error) {
	if err := check(ctx, "lookup", sessionID); err != nil {
		return 0, false, err
	}
	if messageID == "" {
		return 0, false, nil
	}
	v, err := s.eval(ctx, lookupScript, []string{s.opts.keysFor(sessionID).meta}, messageID).Text()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fail(ctx, "lookup", sessionID, err)
	}
	seq, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, fail(ctx, "lookup", sessionID, fmt.Errorf("%w: seq %q", errBadReply, v))
	}
	return seq, true, nil
}
