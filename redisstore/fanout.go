package redisstore

import (
	"hash/maphash"
	"runtime"

	"github.com/chatwire/chatwire/storage"
)

// Fan-out. The pub/sub reader only reads: each message is handed to one of a few delivery
// workers, chosen by a hash of its channel (its session), which decodes it and calls the
// session's subscribers. Notifications of one session therefore keep their order, while
// sessions are delivered in parallel. A worker's queue is bounded; when it is full the
// reader waits (Redis then buffers for the connection), so nothing is dropped.

// workerQueue is the capacity of each delivery worker's queue.
const workerQueue = 1024

// delivery is one pub/sub message (or a Resync) for a channel's subscribers.
type delivery struct {
	channel string
	payload string
	resync  bool
}

// fanout is the set of delivery workers, started by New and stopped when the reader ends.
type fanout struct {
	seed    maphash.Seed
	workers []chan delivery
}

// startWorkers starts one delivery worker per available CPU (at least 2, at most 16).
func (s *Store) startWorkers() {
	n := min(max(runtime.GOMAXPROCS(0), 2), 16)
	s.fan.seed = maphash.MakeSeed()
	s.fan.workers = make([]chan delivery, n)
	for i := range s.fan.workers {
		ch := make(chan delivery, workerQueue)
		s.fan.workers[i] = ch
		s.wg.Add(1)
		go s.deliverLoop(ch)
	}
}

// dispatch queues d on the worker of its channel. Only the reader calls it.
func (s *Store) dispatch(d delivery) {
	w := s.fan.workers[maphash.String(s.fan.seed, d.channel)%uint64(len(s.fan.workers))]
	select {
	case w <- d:
	case <-s.ctx.Done():
	}
}

// stopWorkers ends the workers once the reader (their only sender) has returned; each
// delivers what it has queued first.
func (s *Store) stopWorkers() {
	for _, w := range s.fan.workers {
		close(w)
	}
}

// deliverLoop is one delivery worker.
func (s *Store) deliverLoop(ch <-chan delivery) {
	defer s.wg.Done()
	var batch []*subscriber
	for d := range ch {
		batch = s.subscribers(batch[:0], d.channel)
		if len(batch) == 0 {
			continue
		}
		var n storage.Notification
		if d.resync {
			n.Resync = true
		} else {
			var err error
			if n, err = decodeNotification(d.payload); err != nil {
				n = storage.Notification{Resync: true} // an undecodable payload: read it instead
			}
		}
		for _, sub := range batch {
			sub.deliver(n)
		}
		clear(batch) // keep no canceled subscriber reachable
	}
}
