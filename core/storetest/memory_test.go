package storetest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/core/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMemoryStore runs the suite against core.MemoryStore; the store is its own peer, as
// when several hubs in one process share it.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		return core.NewMemoryStore(core.MemoryStoreOptions{})
	})
}
