package budget

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReserveAndRefund(t *testing.T) {
	s := &MemStore{}
	cs := []Counter{{Key: "a|minute", Window: 10, Limit: 100}, {Key: "a|day", Window: 1, Limit: 150}}
	r, err := Reserve(s, cs, []int64{60, 60})
	if err != nil || !r.Allowed || r.Used[0] != 60 || r.Used[1] != 60 {
		t.Fatalf("first reserve: %+v %v", r, err)
	}
	// 60+50 > 100 on the minute counter: refused, and nothing is left charged on either counter.
	r, err = Reserve(s, cs, []int64{50, 50})
	if err != nil || r.Allowed || r.Denied != 0 || r.Used[0] != 60 {
		t.Fatalf("second reserve: %+v %v", r, err)
	}
	// Refund 40 on both (the response used less than reserved).
	for _, c := range cs {
		if err := Adjust(s, c, -40); err != nil {
			t.Fatal(err)
		}
	}
	r, err = Reserve(s, cs, []int64{80, 80})
	if err != nil || !r.Allowed || r.Used[0] != 100 || r.Used[1] != 100 {
		t.Fatalf("after refund: %+v %v", r, err)
	}
	// The day counter refuses now (100+60 > 150): the minute counter, charged first, is rolled back.
	cs[0].Limit = 1000
	r, err = Reserve(s, cs, []int64{60, 60})
	if err != nil || r.Allowed || r.Denied != 1 {
		t.Fatalf("day refusal: %+v %v", r, err)
	}
	if u, _ := Used(s, cs[0]); u != 100 {
		t.Fatalf("minute counter after rollback = %d, want 100", u)
	}
}

func TestWindowRollover(t *testing.T) {
	s := &MemStore{}
	c := Counter{Key: "k", Window: 5, Limit: 100}
	if r, _ := Reserve(s, []Counter{c}, []int64{90}); !r.Allowed {
		t.Fatal("reserve")
	}
	next := Counter{Key: "k", Window: 6, Limit: 100}
	if u, _ := Used(s, next); u != 0 {
		t.Fatalf("new window starts at %d", u)
	}
	if r, _ := Reserve(s, []Counter{next}, []int64{90}); !r.Allowed || r.Used[0] != 90 {
		t.Fatalf("new window reserve: %+v", r)
	}
	// A refund for the old window arrives late: dropped, it must not reduce the new window.
	if err := Adjust(s, c, -90); err != nil {
		t.Fatal(err)
	}
	if u, _ := Used(s, next); u != 90 {
		t.Fatalf("late refund leaked into the new window: used %d", u)
	}
	// A request whose clock lags one window behind is charged on the newer stored window.
	if r, _ := Reserve(s, []Counter{c}, []int64{20}); r.Allowed {
		t.Fatalf("lagging clock bypassed the limit: %+v", r)
	}
}

func TestRequestLargerThanLimit(t *testing.T) {
	s := &MemStore{}
	r, err := Reserve(s, []Counter{{Key: "k", Limit: 10}}, []int64{11})
	if err != nil || r.Allowed || r.Used[0] != 0 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestAdjustNeverNegative(t *testing.T) {
	s := &MemStore{}
	c := Counter{Key: "k", Window: 1, Limit: 10}
	Reserve(s, []Counter{c}, []int64{5})
	if err := Adjust(s, c, -50); err != nil {
		t.Fatal(err)
	}
	if u, _ := Used(s, c); u != 0 {
		t.Fatalf("used %d", u)
	}
}

// TestCreateRace: workers that all see a missing key must not overwrite each other's creation (a cas of
// 0 would; the ledger creates with createCAS).
func TestCreateRace(t *testing.T) {
	const workers = 8
	s := &MemStore{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	var allowed atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := Reserve(s, []Counter{{Key: "new", Window: 1, Limit: 1000}}, []int64{7})
			if err != nil {
				t.Error(err)
			}
			if r.Allowed {
				allowed.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	u, _ := Used(s, Counter{Key: "new", Window: 1})
	if u != 7*allowed.Load() || allowed.Load() != workers {
		t.Fatalf("used %d after %d allowed reservations of 7", u, allowed.Load())
	}
}

// stepStore interleaves two ledgers deterministically: after each Get, the other ledger runs a whole
// reservation before this one may Set.
type stepStore struct {
	*MemStore
	hook func()
}

func (s *stepStore) Get(key string) ([]byte, uint32, error) {
	v, cas, err := s.MemStore.Get(key)
	if h := s.hook; h != nil {
		s.hook = nil
		h()
	}
	return v, cas, err
}

func TestInterleavedCreateAndUpdate(t *testing.T) {
	mem := &MemStore{}
	c := Counter{Key: "k", Window: 1, Limit: 100}
	a := &stepStore{MemStore: mem}
	// A reads "not found", then B creates the key with 30, then A tries to create with 50: A must get a
	// cas mismatch, re-read 30 and write 80.
	a.hook = func() {
		if r, _ := Reserve(mem, []Counter{c}, []int64{30}); !r.Allowed {
			t.Error("B refused")
		}
	}
	r, err := Reserve(a, []Counter{c}, []int64{50})
	if err != nil || !r.Allowed || r.Used[0] != 80 {
		t.Fatalf("A: %+v %v", r, err)
	}
	// Same with an existing key and a refusal: A reads 80, B adds 15 (95), A's 10 must now be refused.
	a.hook = func() { Reserve(mem, []Counter{c}, []int64{15}) }
	r, _ = Reserve(a, []Counter{c}, []int64{10})
	if r.Allowed || r.Used[0] != 95 {
		t.Fatalf("A after B: %+v", r)
	}
}

// TestHammer runs many concurrent reservations and refunds; the admitted total never exceeds the limit
// and the final counter equals the sum of what was kept.
func TestHammer(t *testing.T) {
	const workers, perWorker, limit = 8, 400, 5000
	s := &MemStore{}
	cs := []Counter{{Key: "m", Window: 3, Limit: limit}, {Key: "d", Window: 1, Limit: limit * 10}}
	var kept atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				amt := int64(10 + (w*7+i)%40)
				r, err := Reserve(s, cs, []int64{amt, amt})
				if err != nil {
					t.Error(err)
					return
				}
				if !r.Allowed {
					continue
				}
				if r.Used[0] > limit {
					t.Errorf("used %d > limit", r.Used[0])
				}
				// Refund a quarter of the reservations in full, keep the rest.
				if i%4 == 0 {
					Adjust(s, cs[0], -amt)
					Adjust(s, cs[1], -amt)
				} else {
					kept.Add(amt)
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range cs {
		u, _ := Used(s, c)
		if u != kept.Load() {
			t.Fatalf("%s: used %d, kept %d", c.Key, u, kept.Load())
		}
	}
	if kept.Load() > limit {
		t.Fatalf("kept %d > limit %d", kept.Load(), limit)
	}
}

func BenchmarkReserveAdjust(b *testing.B) {
	s := &MemStore{}
	cs := []Counter{{Key: "tb:per_key|abc|gpt-4o|minute", Window: 3, Limit: 1 << 50}, {Key: "tb:per_key|abc|gpt-4o|day", Window: 1, Limit: 1 << 50}}
	amts := []int64{1000, 1000}
	b.ReportAllocs()
	for b.Loop() {
		Reserve(s, cs, amts)
		Adjust(s, cs[0], -100)
		Adjust(s, cs[1], -100)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// kongStore has the CAS rules of Kong's shared data (ngx_wasm_module src/common/shm/ngx_wa_shm_kv.c,
// ngx_wa_shm_kv_set_locked): the cas must equal the key's own cas, 0 for a missing key; each key counts
// its own cas from 1.
type kongStore struct {
	mu sync.Mutex
	m  map[string]memEntry
}

func (s *kongStore) Get(key string) ([]byte, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, 0, ErrNotFound
	}
	return append([]byte(nil), e.v...), e.cas, nil
}

func (s *kongStore) Set(key string, v []byte, cas uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]memEntry{}
	}
	if cas != s.m[key].cas {
		return ErrCASMismatch
	}
	s.m[key] = memEntry{v: append([]byte(nil), v...), cas: cas + 1}
	return nil
}

// TestKongCASRules: on Kong a create must carry cas 0 (createCAS is refused there), so counters are created,
// reserved on concurrently and adjusted without losing an update.
func TestKongCASRules(t *testing.T) {
	s := &kongStore{}
	c := Counter{Key: "k", Window: 1, Limit: 1 << 30}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if r, err := Reserve(s, []Counter{c}, []int64{3}); err != nil || !r.Allowed {
					t.Errorf("reserve: %v %+v", err, r)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := Adjust(s, Counter{Key: "fresh", Window: 1}, 5); err != nil {
		t.Fatalf("adjust creates: %v", err)
	}
	if err := Adjust(s, c, -200); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int64{"k": 8*50*3 - 200, "fresh": 5} {
		v, _, err := s.Get(key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if _, used, ok := decode(v); !ok || used != want {
			t.Errorf("%s = %d, want %d", key, used, want)
		}
	}
}
