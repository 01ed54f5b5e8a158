package hostsim

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"
)

// TestIssue14_1_PollOneoffTimerCrash: a Go module with a live timer dies at its next GC
// on hosts whose poll_oneoff fails (Envoy before cpp-host #533: ENOSYS; Kong: ENOTSUP),
// and survives with #533 (success, nevents=0). wazero's stock WASI never shows this.
func TestIssue14_1_PollOneoffTimerCrash(t *testing.T) {
	for _, tc := range []struct {
		p     Profile
		crash bool
	}{{ProfileEnvoy, true}, {ProfileKong, true}, {ProfileEnvoyFullWASI, false}} {
		t.Run(string(tc.p), func(t *testing.T) {
			h := conformance(t, tc.p, "", func(c *Config) { c.Workers = 1 })
			res := h.Do(Request{Headers: act("timer")}, Response{Body: []byte("ok")})
			if res.Trapped != tc.crash {
				t.Fatalf("trapped = %v, want %v (traps %v)", res.Trapped, tc.crash, res.Traps)
			}
			if !tc.crash {
				if res.Status != 200 {
					t.Fatalf("status %d", res.Status)
				}
				return
			}
			if !strings.Contains(strings.Join(res.Traps, " "), "poll_oneoff") {
				t.Fatalf("trap does not name poll_oneoff: %v", res.Traps)
			}
			want := 503
			if tc.p == ProfileKong {
				want = 500
			}
			if res.Status != want || res.LocalReplyDetails != "wasm_fail_stream" {
				t.Fatalf("status %d details %q, want %d wasm_fail_stream", res.Status, res.LocalReplyDetails, want)
			}
		})
	}
}

// TestIssue14_8_MetricsBadArgumentTraps: Increment(0) and Histogram.Value() get
// BAD_ARGUMENT from Envoy; the Go SDK panics; the VM dies and every later request on
// that worker gets 503 (fail-closed).
func TestIssue14_8_MetricsBadArgumentTraps(t *testing.T) {
	for _, a := range []string{"metric-zero", "hist-get"} {
		t.Run(a, func(t *testing.T) {
			h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 2 })
			res := h.DoOn(0, Request{Headers: act(a)}, func(*UpstreamRequest) Response { return Response{} })
			if !res.Trapped || res.Status != 503 {
				t.Fatalf("%s: trapped=%v status=%d", a, res.Trapped, res.Status)
			}
			if !h.VMFailed("conf", 0) || h.VMFailed("conf", 1) {
				t.Fatal("only worker 0's VM must be dead")
			}
			// Later requests on worker 0 fail closed without reaching the plugin.
			res = h.DoOn(0, Request{}, func(*UpstreamRequest) Response { return Response{} })
			if res.Status != 503 || res.Upstream != nil {
				t.Fatalf("worker 0 after the trap: %d", res.Status)
			}
			// Worker 1 still serves.
			res = h.DoOn(1, Request{}, func(*UpstreamRequest) Response { return Response{Body: []byte("ok")} })
			if res.Status != 200 {
				t.Fatalf("worker 1: %d", res.Status)
			}
		})
	}
}

func TestFailurePolicies(t *testing.T) {
	wasm := testPlugin(t, "conformance")
	t.Run("fail_open", func(t *testing.T) {
		h := New(t, Config{Workers: 1, Plugins: []PluginSpec{{Name: "conf", Wasm: wasm, FailurePolicy: FailOpen}}})
		res := h.Do(Request{Headers: act("panic-headers")}, Response{Body: []byte("ok")})
		if !res.Trapped || res.Status != 200 || res.Upstream == nil {
			t.Fatalf("fail-open must skip the plugin: %+v", res)
		}
		res = h.Do(Request{}, Response{Body: []byte("ok")})
		if res.Status != 200 || len(res.Callbacks) != 0 {
			t.Fatalf("later streams bypass the dead plugin: %d callbacks %d", res.Status, len(res.Callbacks))
		}
	})
	t.Run("fail_reload", func(t *testing.T) {
		h := New(t, Config{Workers: 1, NoCanary: true, Plugins: []PluginSpec{{Name: "conf", Wasm: wasm, FailurePolicy: FailReload}}})
		res := h.Do(Request{Body: []byte("x"), Headers: act("panic-body")}, Response{})
		if !res.Trapped || res.Status != 503 {
			t.Fatalf("current stream fails: %+v", res)
		}
		res = h.Do(Request{Body: []byte("x")}, Response{Body: []byte("ok")})
		if res.Trapped || res.Status != 200 || h.Reloads() != 1 {
			t.Fatalf("next stream gets a fresh VM: status %d reloads %d", res.Status, h.Reloads())
		}
		started := 0
		for _, e := range h.Logs() {
			if e.Message == "conformance: started" {
				started++
			}
		}
		if started != 2 {
			t.Fatalf("reload must re-run OnPluginStart: %d starts", started)
		}
	})
	t.Run("kong_default_reload_500", func(t *testing.T) {
		h := New(t, Config{Profile: ProfileKong, Workers: 1, Plugins: []PluginSpec{{Name: "conf", Wasm: wasm}}})
		res := h.Do(Request{Headers: act("panic-headers")}, Response{})
		if res.Status != 500 {
			t.Fatalf("Kong trap: %d", res.Status)
		}
		res = h.Do(Request{}, Response{Body: []byte("ok")})
		if res.Status != 200 {
			t.Fatalf("Kong recycles the instance: %d", res.Status)
		}
	})
}

// TestIssue14_2_HostCallDuringInitialize: a metric defined in a package-level var runs
// during _initialize, where Envoy allows only a few host calls ⇒ the plugin fails to
// load. Kong has no such restriction.
func TestIssue14_2_HostCallDuringInitialize(t *testing.T) {
	wasm := testPlugin(t, "initcall")
	_, err := Start(Config{Plugins: []PluginSpec{{Name: "initcall", Wasm: wasm}}})
	if err == nil || !strings.Contains(err.Error(), "restricted_callback") || !strings.Contains(err.Error(), "proxy_define_metric") {
		t.Fatalf("Envoy must refuse host calls in _initialize: %v", err)
	}
	h, err := Start(Config{Profile: ProfileKong, Plugins: []PluginSpec{{Name: "initcall", Wasm: wasm}}})
	if err != nil {
		t.Fatalf("Kong: %v", err)
	}
	h.Close()
}

// TestIssue14_4_MissingImports: a module using os file APIs imports WASI functions
// that Envoy ≤ #427 and Kong lack: refused at load, naming them; #533 loads it.
func TestIssue14_4_MissingImports(t *testing.T) {
	wasm := testPlugin(t, "osfile")
	for _, p := range []Profile{ProfileEnvoy, ProfileKong} {
		_, err := Start(Config{Profile: p, Plugins: []PluginSpec{{Name: "osfile", Wasm: wasm}}})
		if err == nil || !strings.Contains(err.Error(), "missing imports") || !strings.Contains(err.Error(), "wasi_snapshot_preview1.fd_filestat_get") {
			t.Fatalf("%s: %v", p, err)
		}
	}
	h, err := Start(Config{Profile: ProfileEnvoyFullWASI, Plugins: []PluginSpec{{Name: "osfile", Wasm: wasm}}})
	if err != nil {
		t.Fatalf("envoy-fullwasi must load it: %v", err)
	}
	h.Close()
}

// TestIssue14_7_KongZeroAllocation: Kong calls proxy_on_memory_allocate(0) for an empty
// header value; the Go SDK panics on it. Envoy never allocates 0 bytes.
func TestIssue14_7_KongZeroAllocation(t *testing.T) {
	req := Request{Headers: [][2]string{{"x-act", "dup"}, {"x-dup", ""}}}
	e := conformance(t, ProfileEnvoy, "")
	if res := e.Do(req, Response{}); res.Trapped || res.Status != 200 {
		t.Fatalf("Envoy: %+v", res.Traps)
	}
	k := conformance(t, ProfileKong, "")
	res := k.Do(req, Response{})
	// (Kong's failing poll_oneoff even hides the SDK's "index out of range" message
	// behind "panic during panic".)
	if !res.Trapped || !strings.Contains(strings.Join(res.Traps, " "), "proxy_on_request_headers trapped") {
		t.Fatalf("Kong: empty header value must trap the Go SDK: %v", res.Traps)
	}
}

func TestKongSharedDataNeedsZone(t *testing.T) {
	k := conformance(t, ProfileKong, "")
	res := k.Do(Request{Headers: act("shared-incr")}, Response{})
	if !res.Trapped || !strings.Contains(strings.Join(res.Traps, " "), "shm_kv") {
		t.Fatalf("Kong without shm_kv must trap: %v", res.Traps)
	}
	k = conformance(t, ProfileKong, "", func(c *Config) { c.KongSharedKV = true })
	if res := k.Do(Request{Headers: act("shared-incr")}, Response{}); res.Trapped {
		t.Fatalf("Kong with shm_kv: %v", res.Traps)
	}
}

func TestSetBufferBytesMidBufferBadArgument(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Body: []byte("body"), Headers: act("mid-inject")}, Response{})
	found := false
	for _, m := range res.LogsAt(LogInfo) {
		if m == "inject=<nil> mid=error status returned by host: bad argument" {
			found = true
		}
	}
	if !found || string(res.Upstream.Body) != "xbody" {
		t.Fatalf("logs %v upstream %q", res.LogsAt(LogInfo), res.Upstream.Body)
	}
}

func TestCloseStreamResets(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "")
	res := h.Do(Request{Headers: act("close")}, Response{})
	if !res.Reset || res.Upstream != nil || res.Status != 0 {
		t.Fatalf("close: %+v", res)
	}
}

// TestSharedDataCASAcrossWorkers: the CAS retry loop stays exact with several worker
// VMs running in parallel, because shared data is process-wide with a global CAS.
func TestSharedDataCASAcrossWorkers(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 4 })
	const n = 200
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/8; i++ {
				res := h.Do(Request{Headers: act("shared-incr")}, Response{})
				if res.Trapped {
					t.Errorf("trap: %v", res.Traps)
					return
				}
			}
		}()
	}
	wg.Wait()
	v, cas, ok := h.SharedData("", "counter")
	if !ok || binary.LittleEndian.Uint64(v) != n {
		t.Fatalf("counter = %v (ok %v), want %d", v, ok, n)
	}
	if cas < n {
		t.Fatalf("cas = %d, want >= %d (global counter)", cas, n)
	}
	if errs := h.LogsAt(LogError); len(errs) > 0 {
		t.Fatalf("errors: %v", errs[:min(3, len(errs))])
	}
}

// TestInterleavedStreams drives two streams on two workers step by step.
func TestInterleavedStreams(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 2 })
	a := h.OpenStream(0, Request{Body: []byte("aaaa"), Headers: act("buffer;shared-incr")})
	b := h.OpenStream(1, Request{Body: []byte("bb"), Headers: act("buffer;shared-incr")})
	if a.Worker() != 0 || b.Worker() != 1 {
		t.Fatal("workers not honoured")
	}
	a.SendRequestHeaders(false)
	b.SendRequestHeaders(false)
	a.SendRequestBody([]byte("aa"), false)
	b.SendRequestBody([]byte("bb"), true)
	if a.UpstreamRequest() != nil {
		t.Fatal("a is not complete yet")
	}
	ub := b.UpstreamRequest()
	if ub == nil || string(ub.Body) != "bb" {
		t.Fatalf("b upstream = %+v", ub)
	}
	b.Respond(Response{Body: []byte("B")})
	a.SendRequestBody([]byte("aa"), true)
	a.Respond(Response{Body: []byte("A")})
	ra, rb := a.Close(), b.Close()
	if string(ra.Body) != "A" || string(rb.Body) != "B" || string(ra.Upstream.Body) != "aaaa" {
		t.Fatalf("a=%q b=%q", ra.Body, rb.Body)
	}
	v, _, _ := h.SharedData("", "counter")
	if binary.LittleEndian.Uint64(v) != 2 {
		t.Fatalf("counter = %v", v)
	}
}

func TestTickQueueAndRootCallouts(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	h := conformance(t, ProfileEnvoy, "tick=100,queue,callout-on-start,tick-callout", func(c *Config) {
		c.Workers = 2
		c.Callouts = map[string]CalloutHandler{"auth": func(r CalloutRequest) CalloutResponse {
			p, _ := r.Header(":path")
			mu.Lock()
			paths = append(paths, p)
			mu.Unlock()
			return CalloutResponse{Body: []byte("hi")}
		}}
	})
	// The canary's callout is recorded but never answered (the canary is killed).
	starts := 0
	for _, c := range h.Callouts() {
		if p, _ := c.Header(":path"); p == "/start" {
			starts++
		}
	}
	answered := 0
	for _, m := range h.LogsAt(LogInfo) {
		if m == "start callout answered: hi" {
			answered++
		}
	}
	if starts != 3 || answered != 2 {
		t.Fatalf("start callouts made %d (want 3: canary + 2 workers), answered %d (want 2)", starts, answered)
	}
	h.Tick()
	ticks := 0
	for _, m := range h.LogsAt(LogInfo) {
		if m == "tick 1" {
			ticks++
		}
	}
	if ticks != 2 {
		t.Fatalf("one tick per worker VM: got %d", ticks)
	}
	// Enqueue notifies the last registrant's root context.
	h.Do(Request{Headers: act("enqueue")}, Response{})
	ready := 0
	for _, m := range h.LogsAt(LogInfo) {
		if strings.HasPrefix(m, "queue ready") && strings.Contains(m, "item-") {
			ready++
		}
	}
	if ready != 1 {
		t.Fatalf("queue notifications = %d, want 1", ready)
	}
}

func TestTraceRecordsABICalls(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Trace = true })
	h.Do(Request{Body: []byte("abc"), Headers: act("buffer")}, Response{})
	tr := strings.Join(h.Trace(), "\n")
	for _, want := range []string{"--> proxy_on_request_body(", "==> env.proxy_get_buffer_bytes(buffer_type=0,start=0,max_size=3", "<== status=OK"} {
		if !strings.Contains(tr, want) {
			t.Fatalf("trace lacks %q", want)
		}
	}
}

// TestShutdownLingeringPlugin: on_done returning false keeps the root context until
// the plugin calls proxy_done (here from a tick); then the host deletes it.
func TestShutdownLingeringPlugin(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "linger,tick=10", func(c *Config) { c.Workers = 1 })
	if pending := h.Shutdown(); len(pending) != 1 || pending[0] != "conf/w0" {
		t.Fatalf("pending = %v", pending)
	}
	h.Tick()
	if !strings.Contains(strings.Join(h.LogsAt(LogInfo), "\n"), "plugin done called") {
		t.Fatalf("proxy_done must succeed for a lingering root: %v", h.LogsAt(LogInfo))
	}
	if pending := h.Shutdown(); len(pending) != 0 {
		t.Fatalf("still pending after proxy_done: %v", pending)
	}
}
