//go:build linux

package promptguard

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/wasmguard/wasmguard/hostsim"
)

// TestWasmAB (PROMPTGUARD_AB="label=module.wasm[|config[|path[|body bytes]]];label2=…") sends the request of
// BenchmarkWasmRequest4K (PROMPTGUARD_AB_SIZE bytes, 4 KiB by default) through each module in turn,
// PROMPTGUARD_AB_N times (400) after 20 warm-up rounds, and prints per module the p50/p10/p90 wall time and the
// p50 thread CPU time of an exchange, with the p50 ratio to the first module. Every module is its own VM in one
// process: several modules interleaved evict each other's code and data from the caches, which inflates every
// figure alike, so compare ratios within a run; for absolute figures run one module per process, alternating.
func TestWasmAB(t *testing.T) {
	spec := os.Getenv("PROMPTGUARD_AB")
	if spec == "" {
		t.Skip("PROMPTGUARD_AB not set")
	}
	n, _ := strconv.Atoi(os.Getenv("PROMPTGUARD_AB_N"))
	if n == 0 {
		n = 400
	}
	size, _ := strconv.Atoi(os.Getenv("PROMPTGUARD_AB_SIZE"))
	if size == 0 {
		size = 4 << 10
	}
	type cell struct {
		label string
		path  string
		body  []byte
		h     *hostsim.Host
		wall  []float64
		cpu   []float64
	}
	var cells []*cell
	for _, part := range strings.Split(spec, ";") {
		label, rest, _ := strings.Cut(part, "=")
		path, cfg, _ := strings.Cut(rest, "|")
		cfg, urlPath, _ := strings.Cut(cfg, "|")
		urlPath, sz, _ := strings.Cut(urlPath, "|")
		csize := size
		if sz != "" {
			csize, _ = strconv.Atoi(sz)
		}
		if urlPath == "" {
			urlPath = "/v1/chat/completions"
		}
		if cfg == "" {
			cfg = "{}"
		}
		w, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h := hostsim.New(t, hostsim.Config{Plugins: []hostsim.PluginSpec{{Name: "promptguard", Wasm: w, Config: []byte(cfg)}}})
		cells = append(cells, &cell{label: label, path: urlPath, h: h, body: chatBody(csize)})
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := 0; i < n+20; i++ {
		for j := range cells {
			c := cells[(i+j)%len(cells)]
			c0 := tcpu()
			t0 := time.Now()
			res := do(c.h, c.path, c.body, 0)
			d := time.Since(t0)
			c1 := tcpu()
			if res.Upstream == nil {
				t.Fatalf("%s: blocked", c.label)
			}
			if i >= 20 {
				c.wall = append(c.wall, float64(d.Microseconds()))
				c.cpu = append(c.cpu, (c1-c0)*1e6)
			}
		}
	}
	base := 0.0
	for k, c := range cells {
		slices.Sort(c.wall)
		slices.Sort(c.cpu)
		p50 := c.wall[len(c.wall)/2]
		if k == 0 {
			base = p50
		}
		fmt.Printf("%-12s p50 %7.0f µs  p10 %7.0f  p90 %7.0f  cpu p50 %7.0f  ratio %.3f\n", c.label, p50,
			c.wall[len(c.wall)/10], c.wall[len(c.wall)*9/10], c.cpu[len(c.cpu)/2], p50/base)
	}
}

// tcpu is the CPU time of the calling OS thread in seconds (CLOCK_THREAD_CPUTIME_ID; wazero runs the guest on
// the calling thread).
func tcpu() float64 {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}
