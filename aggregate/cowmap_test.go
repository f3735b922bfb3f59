package aggregate

import (
	"strconv"
	"sync"
	"testing"
)

func TestCowMap(t *testing.T) {
	var c cowMap[string, int]
	c.max = 100
	for i := range 50 {
		if v := c.store(strconv.Itoa(i), i); v != i {
			t.Fatalf("store %d = %d", i, v)
		}
	}
	if v := c.store("7", 700); v != 7 {
		t.Errorf("store of a present key replaced it: %d", v)
	}
	for i := range 50 {
		if v, ok := c.load(strconv.Itoa(i)); !ok || v != i {
			t.Fatalf("load %d = %d %v", i, v, ok)
		}
	}
	if m := c.read.Load(); m == nil || len(*m) != 50 {
		t.Errorf("all keys should have been merged into the snapshot")
	}
	for i := 50; i < 150; i++ {
		c.store(strconv.Itoa(i), i)
	}
	n := len(c.dirty)
	if m := c.read.Load(); m != nil {
		n += len(*m)
	}
	if n > 100 {
		t.Errorf("%d entries, max 100", n)
	}
	if v, ok := c.load("149"); !ok || v != 149 {
		t.Errorf("latest key lost")
	}
}

func TestCowMapConcurrent(t *testing.T) {
	var c cowMap[int, int]
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i * (w + 1)) % 500
				if v, ok := c.load(k); ok && v != k {
					t.Errorf("load %d = %d", k, v)
				}
				c.store(k, k)
			}
		})
	}
	wg.Wait()
}
