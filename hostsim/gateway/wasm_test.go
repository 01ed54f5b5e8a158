package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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
