package hostsim

import (
	"testing"
	"time"
)

// TestTickOnOneRoot: TickPeriod reports the period a root context set, TickOn ticks
// exactly that plugin on that worker, and neither acts without a period.
func TestTickOnOneRoot(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "tick=50", func(c *Config) { c.Workers = 2 })
	if p := h.TickPeriod("conf", 1); p != 50*time.Millisecond {
		t.Fatalf("TickPeriod = %v; want 50ms", p)
	}
	if p := h.TickPeriod("nope", 0); p != 0 {
		t.Errorf("unknown plugin: TickPeriod = %v", p)
	}
	if p := h.TickPeriod("conf", 2); p != 0 {
		t.Errorf("worker 2 of 2: TickPeriod = %v", p)
	}
	for i := 0; i < 2; i++ {
		if !h.TickOn("conf", 1) {
			t.Fatal("TickOn did not tick")
		}
	}
	ticks := map[int]int{}
	for _, e := range h.Logs() {
		if e.Message == "tick 1" || e.Message == "tick 2" {
			ticks[e.Worker]++
		}
	}
	if ticks[1] != 2 || ticks[0] != 0 {
		t.Errorf("ticks per worker %v; want 2 on worker 1 only", ticks)
	}

	off := conformance(t, ProfileEnvoy, "")
	if p := off.TickPeriod("conf", 0); p != 0 || off.TickOn("conf", 0) {
		t.Errorf("without a period: TickPeriod %v, TickOn ticked", p)
	}
}
