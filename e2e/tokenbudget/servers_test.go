package tokenbudget

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// required reports whether missing servers must fail the test instead of skipping it: in CI (CI=true, as
// GitHub Actions and most CI systems set it), or when WASMGUARD_REQUIRE_E2E=1.
func required() bool {
	ci := os.Getenv("CI")
	return ci == "true" || ci == "1" || os.Getenv("WASMGUARD_REQUIRE_E2E") == "1"
}

// needBinary finds a server binary (env override, then PATH, then /usr/bin and /usr/sbin).
func needBinary(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (install it: apt-get install -y redis-server webdis; or set %s)", name, env)
	if required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProcess starts cmd, stops it (SIGTERM, then SIGKILL) at cleanup and dumps its output when the
// test failed.
func startProcess(t *testing.T, name string, cmd *exec.Cmd) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(out.String(), 4000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitFor polls probe until it succeeds or the deadline passes.
func waitFor(t *testing.T, what string, probe func() error) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second) // compiling the .wasm takes seconds, more on a loaded machine
	var err error
	for time.Now().Before(deadline) {
		if err = probe(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready: %v", what, err)
}

// Engine is a running redis-server + webdis pair.
type Engine struct {
	RedisPort, WebdisPort int
}

// URL is webdis's base URL.
func (e *Engine) URL() string { return "http://127.0.0.1:" + strconv.Itoa(e.WebdisPort) + "/" }

// Do sends one webdis command (POST body) and returns the raw JSON answer.
func (e *Engine) Do(t *testing.T, cmd []byte) []byte {
	t.Helper()
	resp, err := http.Post(e.URL(), "text/plain", bytes.NewReader(cmd))
	if err != nil {
		t.Fatalf("webdis: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("webdis status %d: %s", resp.StatusCode, b)
	}
	return b
}

// startEngine starts redis-server and webdis on free loopback ports and stops them at cleanup.
func startEngine(t *testing.T) *Engine {
	t.Helper()
	redisBin := needBinary(t, "REDIS_SERVER", "redis-server")
	webdisBin := needBinary(t, "WEBDIS", "webdis")
	dir := t.TempDir()
	e := &Engine{RedisPort: freePort(t)}
	startProcess(t, "redis-server", exec.Command(redisBin, "--port", strconv.Itoa(e.RedisPort), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir))
	waitFor(t, "redis", func() error {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(e.RedisPort), time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write([]byte("PING\r\n"))
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(string(buf[:n]), "+PONG") {
			return fmt.Errorf("redis answered %q", buf[:n])
		}
		return nil
	})
	e.WebdisPort = freePort(t)
	conf := fmt.Sprintf(`{"redis_host":"127.0.0.1","redis_port":%d,"http_host":"127.0.0.1","http_port":%d,`+
		`"threads":2,"pool_size":8,"daemonize":false,"database":0,"verbosity":3,"logfile":%q}`,
		e.RedisPort, e.WebdisPort, filepath.Join(dir, "webdis.log"))
	confPath := filepath.Join(dir, "webdis.json")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, "webdis", exec.Command(webdisBin, confPath))
	waitFor(t, "webdis", func() error {
		resp, err := http.Get(e.URL() + "PING")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !bytes.Contains(b, []byte("PONG")) {
			return fmt.Errorf("webdis answered %q", b)
		}
		return nil
	})
	return e
}
