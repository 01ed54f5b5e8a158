package filter

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Metrics defines a filter's metrics under "wasmguard_<filter>_<what>" (telemetry.MetricName) with
// tags appended as ".<key>.<value>" (telemetry.Tagged). Create it in OnPluginStart: a metric defined
// from init() or a package-level variable makes Envoy refuse to load the module.
//
// The SDK panics (and the VM traps) on any metric call the host rejects; Envoy rejects a counter
// increment of 0. The helpers here never send one, and names are cut to fit Kong's 256-byte limit.
type Metrics struct {
	filter string
}

// NewMetrics returns the registry for filter ("promptguard", ...).
func NewMetrics(filter string) *Metrics { return &Metrics{filter: filter} }

// maxMetricName leaves room for Kong's "pw:<filter>:" prefix within its 256-byte limit.
const maxMetricName = 200

func (m *Metrics) name(what string, kv ...string) string {
	n := telemetry.Tagged(telemetry.MetricName(m.filter, what), kv...)
	if len(n) > maxMetricName {
		n = n[:maxMetricName]
	}
	return n
}

// Counter is a defined counter.
type Counter struct{ c proxywasm.MetricCounter }

// Counter defines the counter wasmguard_<filter>_<what> with fixed tags (key, value, ...).
func (m *Metrics) Counter(what string, kv ...string) Counter {
	return Counter{proxywasm.DefineCounterMetric(m.name(what, kv...))}
}

// Inc adds 1.
func (c Counter) Inc() { c.c.Increment(1) }

// Add adds n; n == 0 does nothing (Envoy rejects it).
func (c Counter) Add(n uint64) {
	if n > 0 {
		c.c.Increment(n)
	}
}

// CounterVec is a counter family with variable tag values (reason codes, actions, rule names). Each
// combination is defined the first time it is used; keep the values to a small fixed set.
type CounterVec struct {
	m       *Metrics
	what    string
	keys    []string
	entries []vecEntry
}

type vecEntry struct {
	values []string
	c      proxywasm.MetricCounter
}

// CounterVec declares a counter family wasmguard_<filter>_<what> tagged by keys.
//
//	decisions := metrics.CounterVec("decisions_total", "action", "reason")
//	decisions.Inc("block", "prompt_injection_detected")
//	// wasmguard_promptguard_decisions_total.action.block.reason.prompt_injection_detected
func (m *Metrics) CounterVec(what string, keys ...string) *CounterVec {
	return &CounterVec{m: m, what: what, keys: keys}
}

// Inc adds 1 to the counter for values (one per key, in order; missing values count as "").
func (v *CounterVec) Inc(values ...string) { v.Add(1, values...) }

// Add adds n to the counter for values; n == 0 does nothing.
func (v *CounterVec) Add(n uint64, values ...string) {
	if n == 0 {
		return
	}
	v.get(values).Increment(n)
}

func (v *CounterVec) get(values []string) proxywasm.MetricCounter {
next:
	for i := range v.entries {
		e := &v.entries[i]
		for j := range v.keys {
			if valueAt(e.values, j) != valueAt(values, j) {
				continue next
			}
		}
		return e.c
	}
	kv := make([]string, 0, 2*len(v.keys))
	stored := make([]string, len(v.keys))
	for j, k := range v.keys {
		stored[j] = valueAt(values, j)
		kv = append(kv, k, stored[j])
	}
	c := proxywasm.DefineCounterMetric(v.m.name(v.what, kv...))
	v.entries = append(v.entries, vecEntry{values: stored, c: c})
	return c
}

func valueAt(values []string, i int) string {
	if i < len(values) {
		return values[i]
	}
	return ""
}

// Histogram is a defined histogram. Only Record is offered: reading a histogram traps on Envoy.
type Histogram struct{ h proxywasm.MetricHistogram }

// Histogram defines the histogram wasmguard_<filter>_<what> with fixed tags.
func (m *Metrics) Histogram(what string, kv ...string) Histogram {
	return Histogram{proxywasm.DefineHistogramMetric(m.name(what, kv...))}
}

// Record records one value.
func (h Histogram) Record(v uint64) { h.h.Record(v) }

// Gauge is a defined gauge.
type Gauge struct{ g proxywasm.MetricGauge }

// Gauge defines the gauge wasmguard_<filter>_<what> with fixed tags.
func (m *Metrics) Gauge(what string, kv ...string) Gauge {
	return Gauge{proxywasm.DefineGaugeMetric(m.name(what, kv...))}
}

// Add adds delta (may be negative); 0 does nothing.
func (g Gauge) Add(delta int64) {
	if delta != 0 {
		g.g.Add(delta)
	}
}

// Decisions logs and counts a filter's decisions the same way in every filter: one "wasmguard decision"
// line (telemetry.Decision.String) per decision, and the counters
//
//	wasmguard_<filter>_requests_total{action, reason}  every decision (action "monitor" in monitor mode
//	                                                    when the decision would have acted)
//	wasmguard_<filter>_errors_total{reason}             on_error decisions (telemetry.IsErrorReason)
//
// tagged as ".action.<a>.reason.<r>" (see telemetry.Tagged). Actions are the telemetry.Action* vocabulary;
// "deny" is written "block".
//
// and, for the filters that apply an unreadable_attachments policy (Stream.Attachments),
//
//	wasmguard_<filter>_attachments_uninspected_total    inline attachments forwarded that no text filter reads
type Decisions struct {
	requests, errors, uninspected *CounterVec
}

// Decisions defines the decision counters of the filter (each tag combination on first use).
func (m *Metrics) Decisions() *Decisions {
	return &Decisions{requests: m.CounterVec("requests_total", "action", "reason"), errors: m.CounterVec("errors_total", "reason"),
		uninspected: m.CounterVec("attachments_uninspected_total")}
}

// Log writes d's decision line and counts it.
func (r *Decisions) Log(d telemetry.Decision) {
	if d.Action == "deny" {
		d.Action = telemetry.ActionBlock
	}
	LogDecision(d)
	r.count(d.Action, d.Reason, d.Mode)
}

// Warn is Log at warn level (a decision line about an exchange that could not be inspected).
func (r *Decisions) Warn(d telemetry.Decision) {
	if d.Action == "deny" {
		d.Action = telemetry.ActionBlock
	}
	LogWarn(d.String())
	r.count(d.Action, d.Reason, d.Mode)
}

// Count counts a decision that is not logged (an exchange that passed clean).
func (r *Decisions) Count(action, reason string) { r.count(action, reason, "") }

func (r *Decisions) count(action, reason, mode string) {
	if mode == "monitor" && action != telemetry.ActionAllow {
		action = telemetry.ActionMonitor
	}
	r.requests.Inc(action, reason)
	if telemetry.IsErrorReason(reason) {
		r.errors.Inc(reason)
	}
}
