package tokenbudget

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wasmguard/wasmguard/plugins/tokenbudget/budget"
)

// TestEngineScripts runs the filter's Redis scripts (budget.ReserveCommand / AdjustCommand) through a real
// webdis and redis-server: all-or-nothing reservation over several counters, refunds, dropped deltas for
// expired keys, and no overshoot under concurrent reservations.
func TestEngineScripts(t *testing.T) {
	e := startEngine(t)
	cs := []budget.ClusterCounter{
		{Key: "tb:t|abc|gpt-4o|minute|42", Limit: 100, Amount: 60, TTL: 60},
		{Key: "tb:t|abc|gpt-4o|day|7", Limit: 150, Amount: 60, TTL: 120},
	}
	ok, denied, used, err := budget.ParseReserveReply(e.Do(t, budget.ReserveCommand(cs)), 2)
	if err != nil || !ok || denied != -1 || used[0] != 60 || used[1] != 60 {
		t.Fatalf("first reserve: ok=%v denied=%d used=%v err=%v", ok, denied, used, err)
	}
	cs[0].Amount, cs[1].Amount = 50, 50
	ok, denied, used, err = budget.ParseReserveReply(e.Do(t, budget.ReserveCommand(cs)), 2)
	if err != nil || ok || denied != 0 || used[0] != 60 {
		t.Fatalf("over-limit reserve: ok=%v denied=%d used=%v err=%v", ok, denied, used, err)
	}
	// Refund 40 on both, and a delta for a key that does not exist (an ended window) is dropped.
	reply := e.Do(t, budget.AdjustCommand([]string{cs[0].Key, cs[1].Key, "tb:gone|1"}, []int64{-40, -40, 500}))
	if err := budget.ParseAdjustReply(reply); err != nil {
		t.Fatal(err)
	}
	if got := string(e.Do(t, []byte("EXISTS/tb:gone%7C1"))); got != `{"EXISTS":0}` {
		t.Fatalf("adjust created an expired key: %s", got)
	}
	// A refund larger than the counter leaves it at 0.
	e.Do(t, budget.AdjustCommand([]string{cs[1].Key}, []int64{-1000}))
	if got := string(e.Do(t, []byte("GET/"+"tb:t%7Cabc%7Cgpt-4o%7Cday%7C7"))); got != `{"GET":"0"}` {
		t.Fatalf("day counter after big refund: %s", got)
	}
	if got := string(e.Do(t, []byte("TTL/"+"tb:t%7Cabc%7Cgpt-4o%7Cminute%7C42"))); got == `{"TTL":-1}` || got == `{"TTL":-2}` {
		t.Fatalf("minute counter lost its TTL: %s", got)
	}

	// Concurrency: 16 clients × 40 reservations of 7 on a limit of 1000: exactly floor(1000/7) admitted.
	const limit, amt = 1000, 7
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				c := []budget.ClusterCounter{{Key: "tb:conc|" + strconv.Itoa(0), Limit: limit, Amount: amt, TTL: 60}}
				ok, _, _, err := budget.ParseReserveReply(e.Do(t, budget.ReserveCommand(c)), 1)
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if ok {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != limit/amt {
		t.Fatalf("admitted %d reservations of %d on a limit of %d, want %d", admitted.Load(), amt, limit, limit/amt)
	}
}
