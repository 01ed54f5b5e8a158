package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	confOnce sync.Once
	confPath string
	confErr  error
)

// conformanceWasm builds hostsim's conformance test plugin (hostsim/testdata/plugins/conformance) once per
// test binary and returns the path of the .wasm (in a temporary directory; never committed).
func conformanceWasm(t *testing.T) string {
	t.Helper()
	confOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gateway-plugins-")
		if err != nil {
			confErr = err
			return
		}
		confPath = filepath.Join(dir, "conformance.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", confPath, "../testdata/plugins/conformance")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			confErr = err
			t.Logf("%s", out)
		}
	})
	if confErr != nil {
		t.Fatalf("build conformance plugin: %v", confErr)
	}
	return confPath
}

// conformanceConfig is a one-worker gateway running the conformance plugin with the given flags.
func conformanceConfig(t *testing.T, flags string, clusters map[string]ClusterConfig) *Config {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{
		"upstream": "mock", "workers": 1, "mock": map[string]any{"chunk_delay_ms": -1},
		"plugins":  []map[string]any{{"name": "conf", "wasm": conformanceWasm(t), "config": flags}},
		"clusters": clusters,
	})
	cfg, err := ParseConfig(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSlowCalloutDoesNotHoldUpTheWorker: while one stream waits for a slow http_call, another stream on the
// same (only) worker is answered.
func TestSlowCalloutDoesNotHoldUpTheWorker(t *testing.T) {
	arrived := make(chan struct{}, 1)
	otherDone := make(chan struct{})
	released := make(chan bool, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-otherDone:
			released <- true
		case <-time.After(3 * time.Second):
			released <- false
		}
		io.WriteString(w, "ok")
	}))
	defer slow.Close()
	base, _ := startGateway(t, conformanceConfig(t, "", map[string]ClusterConfig{"auth": {URL: slow.URL, TimeoutMS: 10000}}), Options{})

	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	slowStatus := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("x-act", "callout;callout-timeout=8000")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slowStatus <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		slowStatus <- resp.StatusCode
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the callout never reached the cluster")
	}
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	close(otherDone)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "hi") {
		t.Errorf("other stream: status %d: %s", resp.StatusCode, b)
	}
	if !<-released {
		t.Error("the other stream on the worker waited for the slow http_call to finish")
	}
	if st := <-slowStatus; st != 200 {
		t.Errorf("stream with the callout: status %d", st)
	}
}

// ticksOf returns how many ticks the conformance plugin counted per worker: the highest N of its "tick N" logs
// (the host keeps only its latest logs).
func ticksOf(s *Server, workers int) []int {
	n := make([]int, workers)
	for _, e := range s.eng.(*wasmEngine).host.Logs() {
		c, ok := strings.CutPrefix(e.Message, "tick ")
		if !ok || e.Worker < 0 || e.Worker >= workers {
			continue
		}
		if v, err := strconv.Atoi(c); err == nil && v > n[e.Worker] {
			n[e.Worker] = v
		}
	}
	return n
}

// TestTicksAtThePluginsPeriod: every worker VM's root context gets proxy_on_tick at the period the plugin set
// (here 50 ms), concurrently with requests; a callout made from a tick is answered; a plugin that set no period
// gets no ticks until it sets one; no tick fires after the gateway closed.
func TestTicksAtThePluginsPeriod(t *testing.T) {
	var calls sync.Mutex
	tickCallouts := 0
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Lock()
		tickCallouts++
		calls.Unlock()
		io.WriteString(w, "ok")
	}))
	defer auth.Close()
	cfg := conformanceConfig(t, "tick=50,tick-callout", map[string]ClusterConfig{"auth": {URL: auth.URL}})
	cfg.Workers = 2
	created := time.Now() // the period is set while the VMs start
	base, s := startGateway(t, cfg, Options{})
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	start := time.Now()
	for time.Since(start) < 600*time.Millisecond {
		resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	time.Sleep(600*time.Millisecond - time.Since(start))
	got := ticksOf(s, 2)
	elapsed := time.Since(created)
	for w, n := range got {
		// 50 ms for 600 ms or more: 11 or more; loose lower bound for a loaded machine, but ticks must be
		// periodic, not one-off, and never more often than the period.
		if n < 4 || n > int(elapsed/(50*time.Millisecond)) {
			t.Errorf("worker %d: %d ticks in %v at a 50 ms period", w, n, elapsed)
		}
	}
	calls.Lock()
	if tickCallouts < 8 {
		t.Errorf("%d callouts from ticks reached the cluster", tickCallouts)
	}
	calls.Unlock()
	s.Close()
	closed := ticksOf(s, 2)
	time.Sleep(200 * time.Millisecond)
	if after := ticksOf(s, 2); after[0] != closed[0] || after[1] != closed[1] {
		t.Errorf("ticks after close: %v then %v", closed, after)
	}
}

// TestNoTicksUntilAPeriodIsSet: with no period there are no ticks; a stream context setting one (Envoy applies it
// to its worker's root context) starts them on that worker only.
func TestNoTicksUntilAPeriodIsSet(t *testing.T) {
	cfg := conformanceConfig(t, "", nil)
	cfg.Workers = 2
	base, s := startGateway(t, cfg, Options{})
	time.Sleep(300 * time.Millisecond)
	if n := ticksOf(s, 2); n[0] != 0 || n[1] != 0 {
		t.Fatalf("ticks without a period: %v", n)
	}
	req, _ := http.NewRequest("GET", base+"/v1/models", nil)
	req.Header.Set("x-act", "tick-again") // sets 50 ms; the first request goes to worker 0
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond)
	if n := ticksOf(s, 2); n[0] < 3 || n[1] != 0 {
		t.Errorf("ticks after worker 0 set a 50 ms period 500 ms ago: %v (want some on worker 0, none on worker 1)", n)
	}
}
