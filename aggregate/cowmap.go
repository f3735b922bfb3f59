package aggregate

import (
	"maps"
	"sync"
	"sync/atomic"
)

// cowMap is a cache map for read-mostly hot paths: lookups of settled keys
// read an immutable snapshot without locking (no shared-counter writes, so
// they scale across cores, and Go's map hashing, faster than sync.Map's
// for struct keys); new keys go to a small locked map that is merged into
// a new snapshot once it holds a quarter of the snapshot's size (amortized
// O(1) per insert). When it reaches max entries it starts over, so a flood
// of distinct keys costs time, not memory.
type cowMap[K comparable, V any] struct {
	read   atomic.Pointer[map[K]V]
	mu     sync.Mutex
	dirty  map[K]V
	misses int // loads served by dirty since the last merge
	max    int
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if m := c.read.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v, true
		}
	}
	c.mu.Lock()
	v, ok := c.dirty[k]
	if ok {
		if c.misses++; c.misses >= len(c.dirty) {
			c.merge()
		}
	}
	c.mu.Unlock()
	return v, ok
}

// merge publishes a snapshot holding dirty's entries too (c.mu held).
func (c *cowMap[K, V]) merge() {
	var read map[K]V
	if m := c.read.Load(); m != nil {
		read = *m
	}
	merged := make(map[K]V, len(read)+len(c.dirty))
	maps.Copy(merged, read)
	maps.Copy(merged, c.dirty)
	c.read.Store(&merged)
	c.dirty = nil
	c.misses = 0
}

// store adds k (whose strings must not share memory with a caller's
// buffers) and returns the value now held for k.
func (c *cowMap[K, V]) store(k K, v V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var read map[K]V
	if m := c.read.Load(); m != nil {
		read = *m
	}
	if old, ok := read[k]; ok {
		return old
	}
	if old, ok := c.dirty[k]; ok {
		return old
	}
	if c.max > 0 && len(read)+len(c.dirty) >= c.max {
		read, c.dirty = nil, nil
		c.read.Store(nil)
	}
	if c.dirty == nil {
		c.dirty = map[K]V{}
	}
	c.dirty[k] = v
	if len(c.dirty) >= 8+len(read)/4 {
		c.merge()
	}
	return v
}
