package privacy

import (
	"bytes"
	"container/list"
	"sync"
	"time"

	"github.com/stilstaan/stilstaan/keyring"
)

// keyCache keeps recently unwrapped data keys so a busy conversation does not
// unwrap its key on every turn. It is a bounded LRU whose entries also expire
// a fixed time after they were unwrapped.
//
// A key leaving the cache (evicted, expired, replaced or forgotten) is not
// wiped at once: a turn that got it a moment ago may still be sealing with it
// (storage seals the state when the turn commits). It is wiped a grace period
// later, longer than any turn may take. A wiped key fails with ErrNoKey, so
// the worst a too-slow turn can meet is an error and a rollback.
type keyCache struct {
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	grace   time.Duration
	after   func(time.Duration, func()) // time.AfterFunc; replaced in tests
	lru     *list.List                  // of *cacheEntry, most recent first
	entries map[int64]*list.Element
	// forgotten holds people whose key was destroyed: their keys are not
	// cached again until the entry runs out (so a reader racing the deletion
	// cannot put the key back for a whole TTL).
	forgotten map[int64]uint64
	gen       uint64
}

type cacheEntry struct {
	id      int64
	wrapped []byte
	key     keyring.DataKey
	gen     uint64
}

func newKeyCache(max int, ttl, grace time.Duration, after func(time.Duration, func())) *keyCache {
	return &keyCache{max: max, ttl: ttl, grace: grace, after: after, lru: list.New(),
		entries: map[int64]*list.Element{}, forgotten: map[int64]uint64{}}
}

// get returns the cached key of a person when it was unwrapped from exactly
// this wrapped blob. A changed blob (re-wrapped by a rotation, or destroyed)
// drops the entry.
func (c *keyCache) get(id int64, wrapped []byte) (keyring.DataKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return keyring.DataKey{}, false
	}
	e := el.Value.(*cacheEntry)
	if !bytes.Equal(e.wrapped, wrapped) || e.key.IsZero() {
		c.removeLocked(el)
		return keyring.DataKey{}, false
	}
	c.lru.MoveToFront(el)
	return e.key, true
}

// put caches key as the person's key unwrapped from wrapped and returns the
// key to use: when another goroutine cached the same blob meanwhile, its key
// is returned and key, never handed out, is wiped at once. A key that is not
// cached (caching off, or the person was just forgotten) is wiped after the
// grace period.
func (c *keyCache) put(id int64, wrapped []byte, key keyring.DataKey) keyring.DataKey {
	if c.max <= 0 {
		c.after(c.grace, key.Zero)
		return key
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.forgotten[id]; ok {
		// not cached: used by this one caller, then wiped like any other
		c.after(c.grace, key.Zero)
		return key
	}
	if el, ok := c.entries[id]; ok {
		e := el.Value.(*cacheEntry)
		if bytes.Equal(e.wrapped, wrapped) && !e.key.IsZero() {
			key.Zero()
			c.lru.MoveToFront(el)
			return e.key
		}
		c.removeLocked(el)
	}
	c.gen++
	e := &cacheEntry{id: id, wrapped: bytes.Clone(wrapped), key: key, gen: c.gen}
	c.entries[id] = c.lru.PushFront(e)
	gen := e.gen
	c.after(c.ttl, func() { c.expire(id, gen) })
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
	return key
}

// forget drops a person's key, wipes it after the grace period, and keeps it
// out of the cache for one TTL.
func (c *keyCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		c.removeLocked(el)
	}
	c.gen++
	gen := c.gen
	c.forgotten[id] = gen
	c.after(c.ttl+c.grace, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.forgotten[id] == gen {
			delete(c.forgotten, id)
		}
	})
}

// expire removes an entry when its time is up, unless it was replaced since.
func (c *keyCache) expire(id int64, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok && el.Value.(*cacheEntry).gen == gen {
		c.removeLocked(el)
	}
}

// removeLocked takes an entry out and schedules its key to be wiped.
func (c *keyCache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, e.id)
	c.after(c.grace, e.key.Zero)
}

// len returns the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
