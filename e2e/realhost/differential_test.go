package realhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// TestDifferential runs every suite on hostsim and on the reference host and requires them to agree on every
// exchange (exceptions: README.md). The .wasm files come from WASMGUARD_DIST (hostsim.DistDir), so the suite
// runs against TinyGo builds too. When the combined module dist/wasmguard.wasm is there, every suite also runs
// through it, with the filter's configuration as its only stage ({"<filter>": config}).
func TestDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference host (about 15 s per suite)")
	}
	bin := needRealhost(t)
	combined := filepath.Join(hostsim.DistDir(), "wasmguard.wasm")
	_, err := os.Stat(combined)
	haveCombined := err == nil
	if !haveCombined {
		t.Logf("no %s: the suites run on the four single-filter modules only", combined)
	}
	for _, su := range suites {
		t.Run(strings.ReplaceAll(su.name, " ", "_"), func(t *testing.T) {
			path, wasm := distWasm(t, su.filter)
			differential(t, bin, su, su.filter, path, wasm, su.config)
		})
		if haveCombined {
			t.Run("combined/"+strings.ReplaceAll(su.name, " ", "_"), func(t *testing.T) {
				wasm, err := os.ReadFile(combined)
				if err != nil {
					t.Fatal(err)
				}
				differential(t, bin, su, "wasmguard", combined, wasm, `{"`+su.filter+`":`+su.config+`}`)
			})
		}
	}
}

func differential(t *testing.T, bin string, su suite, name, path string, wasm []byte, config string) {
	t.Helper()
	sc := Script{Wasm: path, Plugin: Plugin{Name: name, Configuration: config, AllowStopIter: su.allowStopIter},
		Exchs: su.exchanges(t, wasm, config)}
	start := time.Now()
	hs, hm := runHostsim(t, wasm, sc)
	rh, rm := runRealhost(t, bin, sc)
	skew := time.Since(start) + 2*time.Second
	for i, ex := range sc.Exchs {
		for _, d := range diff(hs[i], rh[i], skew) {
			t.Errorf("%s: %s", ex.Name, d)
		}
	}
	for _, d := range diffMetrics(hm, rm) {
		t.Error(d)
	}
}
