//go:build linux && !wasm

package detect

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// threadCPUNanos is the CPU time of the calling OS thread (CLOCK_THREAD_CPUTIME_ID).
func threadCPUNanos() int64 {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano()
}

// TestWasmCPU (PROMPTGUARD_WASM_CPU=<benchmark regexps, space-separated>) runs this package's benchmarks in wasm:
// the tests are built for wasip1 (standard Go, as dist/promptguard.wasm) and run under wazero's compiler on one
// locked thread whose CPU time is the guest's monotonic clock, so ns/op is guest CPU time and other jobs on a
// loaded machine do not count. PROMPTGUARD_WASM_CPU_BASE=<a wasip1 test binary of another build> (e.g. of an
// older commit: GOOS=wasip1 GOARCH=wasm go test -c) runs the same benchmarks interleaved with this build, for
// ratios; PROMPTGUARD_WASM_CPU_ROUNDS (5) and _N (300 iterations) set the runs.
func TestWasmCPU(t *testing.T) {
	spec := os.Getenv("PROMPTGUARD_WASM_CPU")
	if spec == "" {
		t.Skip("PROMPTGUARD_WASM_CPU not set")
	}
	rounds, n := envInt("PROMPTGUARD_WASM_CPU_ROUNDS", 5), envInt("PROMPTGUARD_WASM_CPU_N", 300)
	bin := filepath.Join(t.TempDir(), "detect.wasm")
	cmd := exec.Command("go", "test", "-c", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build for wasip1: %v\n%s", err, out)
	}
	builds := [][2]string{{"this", bin}}
	if base := os.Getenv("PROMPTGUARD_WASM_CPU_BASE"); base != "" {
		builds = [][2]string{{"base", base}, {"this", bin}}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	var mods []wazero.CompiledModule
	for _, b := range builds {
		code, err := os.ReadFile(b[1])
		if err != nil {
			t.Fatal(err)
		}
		cm, err := rt.CompileModule(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, cm)
	}
	// run runs the benchmarks matching bench and returns each one's guest CPU µs/op.
	run := func(cm wazero.CompiledModule, bench string) map[string]float64 {
		var out bytes.Buffer
		cfg := wazero.NewModuleConfig().WithName("").
			WithArgs("detect.test", "-test.run", "^$", "-test.bench", bench, "-test.benchtime", strconv.Itoa(n)+"x").
			WithStdout(&out).WithStderr(&out).WithSysWalltime().WithNanotime(threadCPUNanos, 1)
		mod, err := rt.InstantiateModule(ctx, cm, cfg)
		var exit *sys.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
			t.Fatalf("%s: %v\n%s", bench, err, out.String())
		}
		if mod != nil {
			mod.Close(ctx)
		}
		res := map[string]float64{}
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) >= 4 && strings.HasPrefix(f[0], "Benchmark") && f[3] == "ns/op" {
				v, _ := strconv.ParseFloat(f[2], 64)
				res[f[0]] = v / 1e3
			}
		}
		if len(res) == 0 {
			t.Fatalf("%s: no result\n%s", bench, out.String())
		}
		return res
	}
	for _, bench := range strings.Fields(spec) {
		res := make([]map[string][]float64, len(builds))
		var names []string
		for r := 0; r < rounds; r++ {
			for k, cm := range mods {
				if res[k] == nil {
					res[k] = map[string][]float64{}
				}
				for name, v := range run(cm, bench) {
					if k == 0 && r == 0 {
						names = append(names, name)
					}
					res[k][name] = append(res[k][name], v)
				}
			}
		}
		slices.Sort(names)
		for _, name := range names {
			var first float64
			for k := range builds {
				v := res[k][name]
				if len(v) == 0 {
					continue
				}
				slices.Sort(v)
				med := v[len(v)/2]
				if k == 0 {
					first = med
				}
				t.Logf("%-36s %-4s guest CPU µs/op: median %7.1f (min %7.1f, max %7.1f) ratio %.3f", name, builds[k][0], med, v[0], v[len(v)-1], med/first)
			}
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
