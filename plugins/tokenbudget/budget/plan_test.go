package budget

import "testing"

func TestPlanLifecycle(t *testing.T) {
	now := mustTime("2026-11-22T04:05:30Z")
	defs := []Def{
		{Name: "tok", Key: []string{"consumer"}, Metric: MetricTotal, Scope: ScopeLocal,
			Limits: []Limit{{Period: Minute, Max: 1000}, {Period: Day, Max: 5000}}, MaxConcurrent: 2},
		{Name: "out", Key: []string{"consumer"}, Metric: MetricOutput, Scope: ScopeCluster, Limits: []Limit{{Period: Hour, Max: 800}}},
		{Name: "other", Key: []string{"model"}, Metric: MetricTotal, Scope: ScopeLocal, Limits: []Limit{{Period: Hour, Max: 1}}},
	}
	parts := [][]string{{"abc"}, {"abc"}, nil} // "other" does not apply
	s := &MemStore{}
	var pend Pending

	p := NewPlan("tb:", defs, parts, now, Price{}, 100, 500)
	if len(p.Slots) != 3 || !p.HasCluster() {
		t.Fatalf("slots %+v", p.Slots)
	}
	if room, _ := p.LocalRoom(s); room != 900 {
		t.Fatalf("room %d", room)
	}
	ok, _, err := p.ReserveLocal(s)
	if !ok || err != nil {
		t.Fatal("reserve", err)
	}
	cs, idx := p.ClusterCounters()
	if len(cs) != 1 || idx[0] != 2 || cs[0].Amount != 500 || cs[0].Limit != 800 || cs[0].TTL <= 0 {
		t.Fatalf("cluster counters %+v %v", cs, idx)
	}
	p.ClusterReserved([]int64{500})

	// A second request of 100+500 does not fit the minute limit (600+600 > 1000).
	p2 := NewPlan("tb:", defs, parts, now, Price{}, 100, 500)
	if room, _ := p2.LocalRoom(s); room != 300 {
		t.Fatalf("room after first %d", room)
	}
	ok, d, _ := p2.ReserveLocal(s)
	if ok || d.Slot != 0 || d.Used != 600 {
		t.Fatalf("second: ok=%v %+v", ok, d)
	}
	// Its concurrency slot was released: two more small requests fit the cap of 2 with the first one? No:
	// the first holds one slot, so exactly one more may run.
	p3 := NewPlan("tb:", defs, parts, now, Price{}, 10, 10)
	if ok, _, _ := p3.ReserveLocal(s); !ok {
		t.Fatal("p3 refused")
	}
	p4 := NewPlan("tb:", defs, parts, now, Price{}, 10, 10)
	if ok, d, _ := p4.ReserveLocal(s); ok || d.Slot != -1 {
		t.Fatalf("p4 passed the concurrency cap: %+v", d)
	}
	p3.Release(s, &pend)

	// The stream outgrows its reservation by 200: local counters have room (600+200 <= 1000).
	if ok, _ := p.Extend(s, &pend, 200); !ok || p.Output != 700 {
		t.Fatalf("extend: %v output %d", ok, p.Output)
	}
	// Another 400 does not fit the minute counter (800+400): refused, nothing charged.
	if ok, _ := p.Extend(s, &pend, 400); ok {
		t.Fatal("extend past the limit")
	}
	// Real usage: 80 input, 650 output. Local counters get 730 − 800 = −70; cluster gets 650 − 700.
	if err := p.Settle(s, &pend, Tokens{Input: 80, Output: 650}); err != nil {
		t.Fatal(err)
	}
	p.Settle(s, &pend, Tokens{Input: 1, Output: 1}) // idempotent
	for _, i := range []int{0, 1} {
		if u, _ := Used(s, p.Slots[i].Counter); u != 730 {
			t.Fatalf("slot %d used %d, want 730", i, u)
		}
	}
	keys, deltas := pend.Drain(10)
	// +200 from the extension, −50 at settlement.
	if len(keys) != 1 || keys[0] != p.Slots[2].Cluster || deltas[0] != 150 {
		t.Fatalf("pending %v %v", keys, deltas)
	}
	// Every concurrency slot is back.
	if u, _ := Used(s, p.conc[0]); u != 0 {
		t.Fatalf("in flight %d", u)
	}
}

func TestPlanCostClamp(t *testing.T) {
	now := mustTime("2026-11-22T04:05:30Z")
	price := Price{Input: 2, Output: 10}
	defs := []Def{{Name: "spend", Key: []string{"consumer"}, Metric: MetricCost, Scope: ScopeLocal, Limits: []Limit{{Period: Day, Max: 10_000}}}}
	s := &MemStore{}
	p := NewPlan("tb:", defs, [][]string{{"u"}}, now, price, 1000, 4096)
	// 1000 input = 2000 µ$; 8000 µ$ left buys 800 output tokens.
	if room, _ := p.LocalRoom(s); room != 800 {
		t.Fatalf("room %d", room)
	}
	p.Output = 800
	if ok, _, _ := p.ReserveLocal(s); !ok {
		t.Fatal("clamped request refused")
	}
	if u, _ := Used(s, p.Slots[0].Counter); u != 10_000 {
		t.Fatalf("used %d", u)
	}
	// The response used cached input and less output: refund down to the real cost.
	p.Settle(s, nil, Tokens{Input: 1000, Output: 100})
	if u, _ := Used(s, p.Slots[0].Counter); u != 3000 {
		t.Fatalf("after settle %d", u)
	}
}
