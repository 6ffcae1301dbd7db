package storetest_test

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/core/storetest"
	"github.com/chatwire/chatwire/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMemoryStore runs the suite against core.MemoryStore; the store is its own peer, as
// when several hubs in one process share it.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store {
		return core.NewMemoryStore(core.MemoryStoreOptions{})
	})
}

// TestMemoryStoreFakeClock runs the suite with a clock that only the suite moves, so the
// lease cases use Options.Advance instead of real time.
func TestMemoryStoreFakeClock(t *testing.T) {
	var mu sync.Mutex
	clocks := map[storage.Store]*time.Time{}
	storetest.RunWithOptions(t, func(t *testing.T) storage.Store {
		now := time.Now()
		s := core.NewMemoryStore(core.MemoryStoreOptions{Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}})
		mu.Lock()
		clocks[s] = &now
		mu.Unlock()
		return s
	}, storetest.Options{Advance: func(s storage.Store, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		*clocks[s] = clocks[s].Add(d)
	}, Lose: func(s storage.Store, _ string) {
		// Idle past the session TTL: the history expires.
		mu.Lock()
		defer mu.Unlock()
		*clocks[s] = clocks[s].Add(core.DefaultSessionTTL + time.Second)
	}})
}
