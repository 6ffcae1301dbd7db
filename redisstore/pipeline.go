package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatch bounds the script calls sent to Redis in one pipeline.
const maxBatch = 128

// pipelineWorkers is how many pipelines a Store keeps in flight at once. While they all
// wait for Redis, new calls wait for the first to return and then go out together.
const pipelineWorkers = 4

// scriptCall is one script call waiting for a pipeline worker (see Store.eval).
type scriptCall struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd    // the reply, set by the worker before done is closed
	done   chan struct{} // closed by the worker
}

// eval runs script like script.Run, but through the Store's pipeline workers: calls made
// by concurrent callers while a worker's previous pipeline is in flight go to Redis
// together, in one write and one read, instead of one round trip (and one pooled
// connection, and two system calls on each side) per call. A call made when a worker is
// idle goes out at once, alone, so a quiet Store adds no latency. Calls of one caller stay
// in order: each waits for its reply. When ctx ends first, eval returns at once; the call
// may still reach Redis, as with script.Run when ctx ends while its reply is awaited. After
// Close, calls go straight to the client (Close ends subscriptions, not the client).
func (s *Store) eval(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.ctx.Err() != nil {
		return script.Run(ctx, s.client, keys, args...) // closed: no workers, the client still works
	}
	c := &scriptCall{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	select {
	case s.calls <- c:
	case <-ctx.Done():
		return failedCmd(ctx, context.Cause(ctx))
	case <-s.ctx.Done():
		return script.Run(ctx, s.client, keys, args...)
	}
	select {
	case <-c.done:
		return c.cmd
	case <-ctx.Done():
		return failedCmd(ctx, context.Cause(ctx))
	case <-s.ctx.Done():
		// The worker finishes the pipeline it sends before it stops; wait for it.
		<-c.done
		return c.cmd
	}
}

func failedCmd(ctx context.Context, err error) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

// pipelineLoop is one pipeline worker: it takes the first waiting call, then every call
// already waiting (up to maxBatch), and sends them in one pipeline. It runs until Close.
// s.calls is unbuffered, so a call is either taken by a worker, which always completes
// it, or never sent (eval then sees the Store closed).
func (s *Store) pipelineLoop() {
	defer s.wg.Done()
	batch := make([]*scriptCall, 0, maxBatch)
	for {
		select {
		case <-s.ctx.Done():
			return
		case c := <-s.calls:
			batch = append(batch[:0], c)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case c := <-s.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		s.runBatch(batch)
		clear(batch)
	}
}

// runBatch sends batch and hands every call its reply.
func (s *Store) runBatch(batch []*scriptCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.cmd = c.script.Run(c.ctx, s.client, c.keys, c.args...)
		close(c.done)
		return
	}
	ctx, cancel := batchContext(context.WithoutCancel(s.ctx), batch)
	defer cancel()
	pipe := s.client.Pipeline()
	for _, c := range batch {
		c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for _, c := range batch {
		if err := c.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			// The script cache was emptied (a restarted Redis, SCRIPT FLUSH): Run loads it.
			c.cmd = c.script.Run(c.ctx, s.client, c.keys, c.args...)
		}
		close(c.done)
	}
}

// batchContext returns the context a pipeline is sent with: it ends at the latest deadline
// of the calls in batch (none if one of them has none), so no call's deadline is cut short
// and a pipeline is never sent without a bound when every caller gave one. parent does not
// cancel it (runBatch passes the Store's context without its cancellation): Close lets a
// pipeline in flight finish, as the calls' callers expect.
func batchContext(parent context.Context, batch []*scriptCall) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			return context.WithCancel(parent)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(parent, latest)
}
