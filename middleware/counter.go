package middleware

import (
	"context"
	"sync"
)

// MemoryCounter is an in-process Counter. Keys whose count returns to zero are removed, so
// it holds only the keys of live connections. It is safe for concurrent use. The zero value
// is ready to use.
type MemoryCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewMemoryCounter returns an empty MemoryCounter.
func NewMemoryCounter() *MemoryCounter { return &MemoryCounter{} }

// Acquire implements Counter. It never fails.
func (c *MemoryCounter) Acquire(_ context.Context, key string, limit int) (func(), bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	if c.counts[key] >= limit {
		return nil, false, nil
	}
	c.counts[key]++
	var once sync.Once
	return func() { once.Do(func() { c.release(key) }) }, true, nil
}

func (c *MemoryCounter) release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts[key] <= 1 {
		delete(c.counts, key)
		return
	}
	c.counts[key]--
}

// Count returns the slots held under key.
func (c *MemoryCounter) Count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

// Total returns the slots held under every key (zero once every connection has ended).
func (c *MemoryCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}
