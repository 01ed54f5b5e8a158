package hostsim

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Test plugins under testdata/plugins/<name> are built to wasm by the tests, once per
// test binary, into a temporary directory (never committed).
var (
	buildDir  string
	buildMu   sync.Mutex
	buildOnce = map[string]*buildResult{}
)

type buildResult struct {
	once sync.Once
	wasm []byte
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hostsim-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testPlugin builds hostsim/testdata/plugins/<name> with the standard Go toolchain
// (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared), as `make build` builds the filters.
func testPlugin(t testing.TB, name string) []byte {
	t.Helper()
	buildMu.Lock()
	br := buildOnce[name]
	if br == nil {
		br = &buildResult{}
		buildOnce[name] = br
	}
	buildMu.Unlock()
	br.once.Do(func() {
		out := filepath.Join(buildDir, name+".wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/plugins/"+name)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if msg, err := cmd.CombinedOutput(); err != nil {
			br.err = fmt.Errorf("build test plugin %s: %v\n%s", name, err, msg)
			return
		}
		br.wasm, br.err = os.ReadFile(out)
	})
	if br.err != nil {
		t.Fatalf("%v", br.err)
	}
	return br.wasm
}

// conformance starts a Host running the conformance test plugin.
func conformance(t testing.TB, p Profile, config string, mod ...func(*Config)) *Host {
	t.Helper()
	cfg := Config{Profile: p, Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(t, "conformance"), Config: []byte(config)}}}
	for _, m := range mod {
		m(&cfg)
	}
	return New(t, cfg)
}

func act(a string) [][2]string { return [][2]string{{"x-act", a}} }

func header(h [][2]string, name string) string {
	v, _ := lookup(h, name)
	return v
}
