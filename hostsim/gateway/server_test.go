package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// startGateway serves cfg on loopback and returns its base URL.
func startGateway(t *testing.T, cfg *Config, opts Options) (string, *Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = log.New(io.Discard, "", 0)
	}
	s, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil, 2*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close()
	})
	return "http://" + ln.Addr().String(), s
}

func TestPassthroughStreamsChunkByChunk(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.URL.RawQuery != "a=1" || r.Header.Get("x-test") != "yes" {
			http.Error(w, "bad forward: "+r.URL.String(), 400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("content-type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"echo\":%d}\n\n", len(b))
		w.(http.Flusher).Flush()
		<-release // the client must see the first event before the upstream goes on
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer up.Close()
	cfg, err := ParseConfig([]byte(`{"upstream":"`+up.URL+`"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	base, s := startGateway(t, cfg, Options{})
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions?a=1", strings.NewReader(`{"stream":true}`))
	req.Header.Set("x-test", "yes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: {\"echo\":15}\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("rest %q", rest)
	}
	var prom strings.Builder
	s.WritePrometheus(&prom)
	if !strings.Contains(prom.String(), "hostsim_gateway_requests_total 1\n") || !strings.Contains(prom.String(), "hostsim_gateway_request_duration_seconds_count") {
		t.Errorf("prometheus text:\n%s", prom.String())
	}
}

func TestMockUpstreamAndAdmin(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"upstream":"mock","mock":{"chunk_delay_ms":1}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startGateway(t, cfg, Options{})
	resp, err := http.Post(base+"/v1/messages", "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"ping"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "ping") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(base + "/__hostsim/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "# TYPE hostsim_gateway_requests_total counter") {
		t.Fatalf("stats: %s", b)
	}
}

func TestRequestBodyLimit(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"upstream":"mock","max_request_bytes":100}`), "")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startGateway(t, cfg, Options{})
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(strings.Repeat("x", 101)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestConfigErrorsNamePaths(t *testing.T) {
	cases := map[string]string{
		`{"upstream":"ftp://x"}`:                                                          `upstream: must be a base URL`,
		`{"upstream":"mock","workers":0,"profile":"nginx"}`:                               `profile: must be one of envoy, envoy_full_wasi, kong; got "nginx"`,
		`{"upstream":"mock","plugins":[{"name":"a"}]}`:                                    `plugins[0].wasm: must be the path of a .wasm file`,
		`{"upstream":"mock","plugins":[{"name":"a","wasm":"a"},{"name":"a","wasm":"b"}]}`: `plugins[1].name: must be unique`,
		`{"upstream":"mock","bogus":1}`:                                                   `unknown field "bogus"`,
		`{"upstream":"mock","clusters":{"c":{"url":"nope"}}}`:                             `clusters.c.url: must be an http(s) URL`,
	}
	for in, want := range cases {
		_, err := ParseConfig([]byte(in), "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}

func TestSplitTags(t *testing.T) {
	for in, want := range map[string]string{
		"wasmguard_promptguard_decisions_total.action.block.reason.prompt_injection_detected": `wasmguard_promptguard_decisions_total{action="block",reason="prompt_injection_detected"}`,
		"wasmguard_piimask_requests_total": "wasmguard_piimask_requests_total",
		"odd.name":                         "odd_name",
	} {
		n, l := splitTags(in)
		if n+l != want {
			t.Errorf("%s → %s%s, want %s", in, n, l, want)
		}
	}
}

// FuzzParseConfig: any input is either a valid config or an error naming what is wrong; never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"upstream":"mock","plugins":[{"name":"a","wasm":"a.wasm","config":{"mode":"monitor"}}]}`))
	f.Add([]byte(`{"upstream":"http://127.0.0.1:1","clusters":{"c":{"url":"http://x"}},"workers":3}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseConfig(raw, "")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "gateway config: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if c.Workers < 1 || c.Listen == "" || c.Upstream == "" {
			t.Fatalf("accepted config without defaults: %+v", c)
		}
		for i := range c.Plugins {
			if c.Plugins[i].ConfigFile == "" { // never read files the fuzzer names (/dev/zero, ...)
				_, _ = c.RawConfig(&c.Plugins[i])
			}
		}
	})
}

func TestRouteFor(t *testing.T) {
	c, err := ParseConfig([]byte(`{"upstream":"mock","routes":[{"name":"batch","path_prefix":"/v1/batches"},{"name":"openai","path_prefix":"/v1/"}]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/v1/batches/x": "batch", "/v1/chat/completions": "openai", "/healthz": ""} {
		if got := c.RouteFor(path); got != want {
			t.Errorf("RouteFor(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestWasmFilterInProcess runs a real built filter (tokenbudget) in the gateway: the request goes through and the
// filter's tagged metrics show up as Prometheus labels.
func TestWasmFilterInProcess(t *testing.T) {
	hostsim.DistWasm(t, "tokenbudget")
	cfg, err := ParseConfig([]byte(`{"upstream":"mock","workers":1,"mock":{"chunk_delay_ms":-1},
		"plugins":[{"name":"tokenbudget","wasm":"tokenbudget.wasm","config":{"consumer_header":"authorization",
		"budgets":[{"name":"per_key","key":["consumer"],"windows":{"minute":100000}}]}}]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	base, s := startGateway(t, cfg, Options{Dist: hostsim.DistDir()})
	req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"count my tokens"}]}`))
	req.Header.Set("authorization", "Bearer k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "count ") || !strings.Contains(string(b), "[DONE]") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	// Concurrent requests share the worker VMs (one call at a time per VM).
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				req, _ := http.NewRequest("POST", base+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4","max_tokens":64,"messages":[{"role":"user","content":"hello"}]}`))
				req.Header.Set("authorization", "Bearer k2")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), "hello") {
					errs <- fmt.Sprintf("status %d: %s", resp.StatusCode, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var prom strings.Builder
	s.WritePrometheus(&prom)
	if !strings.Contains(prom.String(), "hostsim_gateway_requests_total 17\n") {
		t.Errorf("request count:\n%s", prom.String())
	}
	if !strings.Contains(prom.String(), "# TYPE wasmguard_tokenbudget_") || !strings.Contains(prom.String(), `wasmguard_tokenbudget_requests_total{action="allow",reason="none"} 17`+"\n") {
		t.Errorf("filter metrics missing or without labels:\n%s", prom.String())
	}
}
