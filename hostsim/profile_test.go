package hostsim

import (
	"strings"
	"testing"
)

// TestIssue14_5_CryptoRandOver64KiB: Envoy refuses random_get over 64 KiB (EINVAL) and
// Go's crypto/rand then aborts; Kong has no limit.
func TestIssue14_5_CryptoRandOver64KiB(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		trap bool
	}{{ProfileEnvoyFullWASI, true}, {ProfileKong, false}} {
		h := conformance(t, tc.p, "", func(c *Config) { c.KongSharedKV = true })
		res := h.Do(Request{Headers: act("rand-big")}, Response{})
		if res.Trapped != tc.trap {
			t.Fatalf("%s: trapped=%v want %v: %v", tc.p, res.Trapped, tc.trap, res.Traps)
		}
		if tc.trap && !strings.Contains(strings.Join(res.Traps, " "), "crypto/rand") {
			t.Fatalf("%s: trap does not name crypto/rand: %v", tc.p, res.Traps)
		}
	}
}

// TestIssue14_11_HeaderStopIterationOptIn: with allow_on_headers_stop_iteration
// (Envoy ≥ 1.35) a plugin that pauses headers still receives the body and releases
// headers+body by continuing from the body callback; without it the stream hangs.
func TestIssue14_11_HeaderStopIterationOptIn(t *testing.T) {
	wasm := testPlugin(t, "conformance")
	req := Request{Body: []byte("hello body"), ChunkSize: 4, Headers: act("pause-headers;buffer")}
	h := New(t, Config{Plugins: []PluginSpec{{Name: "conf", Wasm: wasm, AllowOnHeadersStopIteration: true}}})
	res := h.Do(req, Response{Body: []byte("ok")})
	if res.Status != 200 || res.Upstream == nil || string(res.Upstream.Body) != "hello body" {
		t.Fatalf("stop-iteration opt-in: %d %+v", res.Status, res.Upstream)
	}
	// The headers reached the upstream only after the body was judged, so a header
	// the plugin added in the body callback is visible upstream.
	if header(res.Upstream.Headers, "x-body-calls") == "" {
		t.Fatal("headers left before the body callback")
	}
	d := New(t, Config{Plugins: []PluginSpec{{Name: "conf", Wasm: wasm}}})
	res = d.Do(req, Response{})
	if !res.Hung {
		t.Fatalf("default StopAllIteration must hold the body and hang: %+v", res)
	}
	for _, c := range res.Callbacks {
		if c.Name == "proxy_on_request_body" {
			t.Fatal("body delivered while headers were paused")
		}
	}
}

// TestIssue14_27_GoroutinesNeverRunBetweenCallbacks.
func TestIssue14_27_GoroutinesNeverRunBetweenCallbacks(t *testing.T) {
	h := conformance(t, ProfileEnvoyFullWASI, "", func(c *Config) { c.Workers = 1 })
	h.Do(Request{Headers: act("goroutine")}, Response{})
	for i := 0; i < 20; i++ {
		h.Do(Request{}, Response{})
	}
	res := h.Do(Request{Headers: act("goroutine-count")}, Response{})
	if got := header(res.Upstream.Headers, "x-goroutine-runs"); got != "0" {
		t.Fatalf("background goroutine ran %s times between callbacks", got)
	}
}

func TestKongTickPeriodRules(t *testing.T) {
	k := conformance(t, ProfileKong, "tick=100")
	res := k.Do(Request{Headers: act("tick-again")}, Response{})
	if !res.Trapped || !strings.Contains(res.Traps[0], "root context") {
		t.Fatalf("Kong: tick period from an HTTP context must trap: %v", res.Traps)
	}
	e := conformance(t, ProfileEnvoy, "tick=100")
	if res := e.Do(Request{Headers: act("tick-again")}, Response{}); res.Trapped {
		t.Fatalf("Envoy accepts it: %v", res.Traps)
	}
}

func TestMetricsRules(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	h.Do(Request{Body: []byte("abcd"), Headers: act("buffer")}, Response{})
	h.Do(Request{Body: []byte("ab"), Headers: act("buffer")}, Response{})
	if n, _ := h.Metric("conformance_requests_total"); n != 2 {
		t.Fatalf("counter = %d", n)
	}
	s, ok := h.Histogram("conformance_body_bytes")
	if !ok || len(s) != 2 || s[0]+s[1] != 6 {
		t.Fatalf("histogram = %v %v", s, ok)
	}
	k := conformance(t, ProfileKong, "")
	k.Do(Request{}, Response{})
	all := k.Metrics()
	if _, ok := all["pw:conf:conformance_requests_total"]; !ok {
		t.Fatalf("Kong metric names: %v", all)
	}
	if n, ok := k.Metric("conformance_requests_total"); !ok || n != 1 {
		t.Fatalf("Kong metric lookup without prefix: %d %v", n, ok)
	}
}

// TestKongBodySemantics: request bodies over client_body_buffer_size (8 KiB) are
// unreadable; a paused response body is re-delivered only when 16 KiB are buffered
// (eof=false), and pausing again then is ignored.
func TestKongBodySemantics(t *testing.T) {
	big := []byte(strings.Repeat("a", 10<<10))
	k := conformance(t, ProfileKong, "")
	res := k.Do(Request{Body: big, Headers: act("buffer")}, Response{})
	if !strings.Contains(strings.Join(res.LogsAt(LogError), " "), "client_body_buffer_size") {
		t.Fatalf("Kong: a 10 KiB body must be unreadable by default: %v", res.LogsAt(LogError))
	}
	k = conformance(t, ProfileKong, "", func(c *Config) { c.KongClientBodyBufferSize = -1 })
	res = k.Do(Request{Body: big, Headers: act("buffer")}, Response{})
	if errs := res.LogsAt(LogError); len(errs) > 0 {
		t.Fatalf("raised limit: %v", errs)
	}
	chunk := []byte(strings.Repeat("b", 10<<10))
	res = k.Do(Request{Headers: act("resp-rewrite")}, Response{Chunks: [][]byte{chunk, chunk, chunk}})
	var calls []uint64
	for _, c := range res.Callbacks {
		if c.Name == "proxy_on_response_body" {
			calls = append(calls, c.Args[0])
		}
	}
	if len(calls) != 3 || calls[1] != 20<<10 {
		t.Fatalf("Kong response body calls = %v, want [10240 20480 10240]", calls)
	}
	if !strings.Contains(strings.Join(res.LogsAt(LogError), " "), "pause after response body buffering is ignored") {
		t.Fatalf("logs: %v", res.LogsAt(LogError))
	}
	// Pause from on_response_headers is ignored by Kong (treated as Continue).
	e := conformance(t, ProfileEnvoy, "")
	if res := e.Do(Request{Headers: act("resp-rewrite")}, Response{Chunks: [][]byte{chunk, chunk, chunk}}); len(res.Body) != 3*len(chunk)+2 {
		t.Fatalf("Envoy buffers the whole response: %d bytes", len(res.Body))
	}
}

func TestKongTrapsAndNYI(t *testing.T) {
	k := conformance(t, ProfileKong, "queue", func(c *Config) { c.KongSharedKV = true })
	// proxy_resolve_shared_queue is not implemented in Kong: calling it traps.
	res := k.Do(Request{Headers: act("enqueue")}, Response{})
	if !res.Trapped || !strings.Contains(res.Traps[0], "proxy_resolve_shared_queue") {
		t.Fatalf("resolve queue on Kong: %v", res.Traps)
	}
	// http_call from a response phase traps on Kong; Envoy allows it.
	k.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{} })
	res = k.Do(Request{Headers: act("resp-callout")}, Response{})
	if !res.Trapped || !strings.Contains(res.Traps[0], "cannot dispatch") {
		t.Fatalf("Kong response-phase dispatch: %v", res.Traps)
	}
	e := conformance(t, ProfileEnvoy, "")
	e.HandleCallouts("auth", func(CalloutRequest) CalloutResponse { return CalloutResponse{} })
	res = e.Do(Request{Headers: act("resp-callout")}, Response{})
	if res.Trapped || !strings.Contains(strings.Join(res.LogsAt(LogInfo), "\n"), "resp-callout: ok") {
		t.Fatalf("Envoy response-phase dispatch: %v %v", res.Traps, res.LogsAt(LogInfo))
	}
	// Kong local reply from on_response_headers replaces the response (with "\n").
	res = k.Do(Request{Headers: act("resp-deny")}, Response{Body: []byte("upstream")})
	if res.Status != 502 || string(res.Body) != "bad upstream\n" {
		t.Fatalf("Kong response-phase local reply: %d %q", res.Status, res.Body)
	}
}
