package budget

import (
	"strings"
	"time"
)

// Scope says where a budget's counters live.
type Scope uint8

// The two scopes: per host (proxy-wasm shared data, shared by the worker VMs of one gateway process) and
// cluster-wide (Redis via webdis, shared by every gateway).
const (
	ScopeLocal Scope = iota + 1
	ScopeCluster
)

// Limit is one window of a budget.
type Limit struct {
	Period Period
	Max    int64 // in the budget's metric unit (tokens, or micro-dollars for cost)
}

// Def is one configured budget.
type Def struct {
	Name   string
	Key    []string // key parts: "consumer", "model", "route", "host", "header:<name>"
	Metric Metric
	Limits []Limit
	Scope  Scope
	// FailOpen: when the cluster engine cannot be reached, admit the request (true) or refuse it (false).
	FailOpen bool
	// Models restricts the budget to some models (exact names or "prefix*"); empty means all.
	Models []string
	// MaxConcurrent caps the requests in flight per key (0 = no cap); kept per host.
	MaxConcurrent int64
}

// AppliesTo reports whether the budget covers model.
func (d *Def) AppliesTo(model string) bool {
	if len(d.Models) == 0 {
		return true
	}
	for _, m := range d.Models {
		if m == model || (strings.HasSuffix(m, "*") && strings.HasPrefix(model, m[:len(m)-1])) {
			return true
		}
	}
	return false
}

// Slot is one counter of one request: which budget and limit it comes from, its local key and window, and
// the Redis key for cluster budgets.
type Slot struct {
	Budget  int // index in the Def list
	Limit   int // index in Def.Limits
	Counter Counter
	Cluster string // Redis key (ClusterKey) when the budget is cluster-wide
	ResetAt int64  // Unix seconds at which the window ends
	TTL     int64  // seconds the Redis key should live
}

// Slots lists the counters a request is charged on: one per applicable budget and limit. parts[i] are the
// resolved key parts of defs[i] (nil for a budget that does not apply). Concurrency counters are not
// included (see ConcurrencyCounter).
func Slots(prefix string, defs []Def, parts [][]string, now time.Time) []Slot {
	var out []Slot
	for i := range defs {
		if parts[i] == nil {
			continue
		}
		d := &defs[i]
		for j, l := range d.Limits {
			id, end := l.Period.Window(now)
			key := CounterKey(prefix, d.Name, parts[i], l.Period)
			s := Slot{Budget: i, Limit: j, Counter: Counter{Key: key, Window: id, Limit: l.Max}, ResetAt: end}
			if d.Scope == ScopeCluster {
				s.Cluster = ClusterKey(key, id)
				s.TTL = end - now.Unix() + 60
			}
			out = append(out, s)
		}
	}
	return out
}

// ConcurrencyCounter is the per-host counter of requests in flight for budget d and its key parts.
func ConcurrencyCounter(prefix string, d *Def, parts []string) Counter {
	return Counter{Key: CounterKey(prefix, d.Name, parts, 0) + "|inflight", Limit: d.MaxConcurrent}
}

// Tightest returns, among slots, the one with the least room left (used[i] is the amount used in slot i,
// amount[i] what this request adds) and that room; -1 when slots is empty.
func Tightest(slots []Slot, used []int64) (int, int64) {
	best, room := -1, int64(0)
	for i, s := range slots {
		r := s.Counter.Limit - used[i]
		if best < 0 || r < room {
			best, room = i, r
		}
	}
	return best, max(room, 0)
}

// RateHeaders returns the OpenAI-style rate-limit headers for the binding slot: x-ratelimit-limit-tokens,
// x-ratelimit-remaining-tokens and x-ratelimit-reset-tokens, plus retry-after (whole seconds, at least 1)
// when denied is true.
func RateHeaders(s Slot, remaining int64, now time.Time, denied bool) [][2]string {
	wait := s.ResetAt - now.Unix()
	if wait < 1 {
		wait = 1
	}
	h := [][2]string{
		{"x-ratelimit-limit-tokens", itoa(s.Counter.Limit)},
		{"x-ratelimit-remaining-tokens", itoa(max(remaining, 0))},
		{"x-ratelimit-reset-tokens", FormatReset(wait)},
	}
	if denied {
		h = append(h, [2]string{"retry-after", itoa(wait)})
	}
	return h
}
