package tokenbudget

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// benchDecision runs whole requests (headers, body, response, done) through the built .wasm in hostsim and
// reports the p50 and p99 of the request-side decision: the time from the first request callback until the
// request is forwarded, which covers parsing, estimation, the shared-data CAS reservation and, for cluster
// budgets, the engine callout (answered at once by a scripted handler, so it measures the filter's side).
func benchDecision(b *testing.B, cfg string, callouts map[string]hostsim.CalloutHandler) {
	h := hostsim.New(b, hostsim.Config{
		Workers:  1,
		Plugins:  []hostsim.PluginSpec{{Name: "tokenbudget", Wasm: hostsim.DistWasm(b, "tokenbudget"), Config: []byte(cfg)}},
		Callouts: callouts,
	})
	req := chatReq("gpt-4o", 200, false)
	resp := chatUsage(20, 10)
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		s := h.OpenStream(0, req)
		start := time.Now()
		s.SendRequest()
		lat = append(lat, time.Since(start))
		if s.UpstreamRequest() == nil {
			b.Fatalf("request not forwarded: %+v", s.Result())
		}
		s.Respond(resp)
		s.Close()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkDecisionLocal: two local budgets (minute and day windows on one, a concurrency cap on the other).
func BenchmarkDecisionLocal(b *testing.B) {
	benchDecision(b, `{"consumer_header":"authorization","budgets":[
 {"name":"m","key":["model"],"windows":{"minute":1000000000000,"day":1000000000000}},
 {"name":"u","key":["consumer"],"windows":{"hour":1000000000000},"max_concurrent":10}]}`, nil)
}

// BenchmarkDecisionCluster: one cluster budget; the engine answers immediately.
func BenchmarkDecisionCluster(b *testing.B) {
	benchDecision(b, fmt.Sprintf(clusterCfg, "deny"), map[string]hostsim.CalloutHandler{"webdis": func(c hostsim.CalloutRequest) hostsim.CalloutResponse {
		return hostsim.CalloutResponse{Status: 200, Body: []byte(`{"EVAL":[0,400]}`)}
	}})
}

// BenchmarkPassthrough is the same request through a tokenbudget with no budget: the baseline.
func BenchmarkPassthrough(b *testing.B) {
	benchDecision(b, `{}`, nil)
}
