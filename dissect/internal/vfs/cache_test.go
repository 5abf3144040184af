package vfs

import "testing"

func TestCache(t *testing.T) {
	b := NewBudget(Limits{})
	c := NewCache(30, b)
	block := func(n int) []byte { return make([]byte, n) }
	c.Put(1, block(10))
	c.Put(2, block(10))
	c.Put(3, block(10))
	c.Get(1) // 2 is now the least recently used
	c.Put(4, block(10))
	for key, want := range map[uint64]bool{1: true, 2: false, 3: true, 4: true} {
		if _, ok := c.Get(key); ok != want {
			t.Errorf("block %d cached: %v, want %v", key, ok, want)
		}
	}
	if c.Held() != 30 || b.Held() != 30 {
		t.Errorf("held %d, budget %d; want 30", c.Held(), b.Held())
	}
	c.Put(5, block(40)) // larger than the cache: not kept, nothing lost for it
	if _, ok := c.Get(5); ok || c.Held() != 30 || b.Held() != 30 {
		t.Errorf("an oversized block: held %d, budget %d", c.Held(), b.Held())
	}
	// The budget's memory limit keeps a block out.
	tight := NewBudget(Limits{Memory: 15})
	c = NewCache(100, tight)
	c.Put(1, block(10))
	c.Put(2, block(10))
	if _, ok := c.Get(2); ok || c.Held() != 10 {
		t.Errorf("past the memory limit: held %d", c.Held())
	}
}
