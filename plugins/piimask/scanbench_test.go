package piimask

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmguard/wasmguard/plugins/piimask/internal/benchtext"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

// BenchmarkWasmScanLoop measures the scanner alone inside wasm: internal/scanbench is built for wasip1
// (standard Go, as dist/piimask.wasm) and run in wazero's compiler; the CPU time of a run with 1 scan is
// subtracted from a run with 1+N scans of the same 256 KiB text, so module start-up and text generation
// cancel out. native_MB/s is the same loop natively, measured in the same run; ratio = native / wasm. The
// prose kinds are ordinary answer text with the words and signs that may begin a value written differently
// ("at", brackets, dashes, numbers at line ends). The -plain kinds scan without the canonical view (ScanPlain): the difference is what that pass costs.
// (BenchmarkWasmScan measures the whole filter instead, where JSON parsing and body copies dominate.)
func BenchmarkWasmScanLoop(b *testing.B) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("go toolchain not found")
	}
	wasmPath := filepath.Join(b.TempDir(), "scanbench.wasm")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", wasmPath, "./internal/scanbench")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build scanbench: %v\n%s", err, out)
	}
	code, err := os.ReadFile(wasmPath)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	cm, err := rt.CompileModule(ctx, code)
	if err != nil {
		b.Fatal(err)
	}
	run := func(kind string, n int) time.Duration {
		cfg := wazero.NewModuleConfig().WithName("").WithArgs("scanbench", kind, strconv.Itoa(n)).WithStdout(io.Discard).WithStderr(io.Discard)
		t0 := cpuNow()
		mod, err := rt.InstantiateModule(ctx, cm, cfg)
		d := cpuNow() - t0
		var exit *sys.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
			b.Fatalf("scanbench %s %d: %v", kind, n, err)
		}
		if mod != nil {
			mod.Close(ctx)
		}
		return d
	}
	const iters = 40
	for _, kind := range []string{"sparse", "sparse-plain", "dense", "dense-plain", "prose", "prose-plain"} {
		text := benchtext.Sparse(256 << 10)
		if strings.HasPrefix(kind, "dense") {
			text = benchtext.Dense(256 << 10)
		}
		if strings.HasPrefix(kind, "prose") {
			text = benchtext.Prose(256 << 10)
		}
		scan := pii.New(pii.All(), nil).Scan
		if strings.HasSuffix(kind, "-plain") {
			scan = pii.New(pii.All(), nil).ScanPlain
		}
		b.Run(kind, func(b *testing.B) {
			var wasmT, nativeT time.Duration
			var ms []pii.Match
			for i := 0; i < b.N; i++ {
				base := run(kind, 1)
				full := run(kind, 1+iters)
				wasmT += full - base
				t0 := cpuNow()
				for k := 0; k < iters; k++ {
					ms = scan(text, ms[:0])
				}
				nativeT += cpuNow() - t0
			}
			bytes := float64(len(text)) * iters * float64(b.N)
			if wasmT > 0 {
				b.ReportMetric(bytes/wasmT.Seconds()/1e6, "wasm_MB/s")
				b.ReportMetric(wasmT.Seconds()/nativeT.Seconds(), "wasm/native")
			}
			b.ReportMetric(bytes/nativeT.Seconds()/1e6, "native_MB/s")
		})
	}
}
