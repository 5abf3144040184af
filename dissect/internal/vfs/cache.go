package vfs

import "sync"

// Cache keeps the blocks a reader read or decoded for one image, by
// position, up to a number of bytes, the least recently used going first.
// The resolver walks every path from the root, so the same directory,
// inode and index blocks are asked for again and again; keeping them by
// use rather than dropping all at once when full means a block is read
// again only when a path needs more blocks than the cache holds.
//
// What it holds is counted in the budget (Budget.Alloc). Blocks are never
// modified once cached, so a caller may keep a slice of one after it goes.
type Cache struct {
	mu     sync.Mutex
	max    int
	budget *Budget
	blocks map[uint64][]byte
	order  []uint64 // least recently used first
	held   int
}

// NewCache returns a cache of at most maxBytes, counted in b.
func NewCache(maxBytes int, b *Budget) *Cache {
	return &Cache{max: maxBytes, budget: b, blocks: map[uint64][]byte{}}
}

// Get returns the block at key, if cached.
func (c *Cache) Get(key uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.blocks[key]
	if ok {
		c.touch(key)
	}
	return b, ok
}

// touch moves key to the most recently used end. A cache holds a few
// hundred blocks, so a linear search costs less than a list would.
func (c *Cache) touch(key uint64) {
	for i := len(c.order) - 1; i >= 0; i-- {
		if c.order[i] == key {
			copy(c.order[i:], c.order[i+1:])
			c.order[len(c.order)-1] = key
			return
		}
	}
}

// Put keeps b at key, letting the least recently used blocks go to make
// room. A block the budget has no room for is not kept.
func (c *Cache) Put(key uint64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(b) > c.max {
		return
	}
	if old, ok := c.blocks[key]; ok {
		c.held -= len(old)
		c.budget.Free(len(old))
		c.touch(key)
	} else {
		c.order = append(c.order, key)
	}
	for c.held+len(b) > c.max && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.held -= len(c.blocks[old])
		c.budget.Free(len(c.blocks[old]))
		delete(c.blocks, old)
	}
	if c.budget.Alloc(len(b)) != nil {
		delete(c.blocks, key)
		c.order = c.order[:len(c.order)-1]
		return
	}
	c.blocks[key] = b
	c.held += len(b)
}

// Held is how many bytes the cache holds.
func (c *Cache) Held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}
