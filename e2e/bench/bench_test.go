package bench

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/hostsim/gateway"
)

// targets are the measured chains: each filter alone, then all four.
func targets() [][]string {
	var out [][]string
	for _, f := range Filters {
		out = append(out, []string{f})
	}
	return append(out, Filters)
}

func targetName(t []string) string {
	if len(t) > 1 {
		return "chain"
	}
	return t[0]
}

func specsTB(tb testing.TB, names []string) []hostsim.PluginSpec {
	tb.Helper()
	var specs []hostsim.PluginSpec
	for _, n := range names {
		cfg, err := FilterConfig(n)
		if err != nil {
			tb.Fatal(err)
		}
		specs = append(specs, hostsim.PluginSpec{Name: n, Wasm: hostsim.DistWasm(tb, n), Config: cfg})
	}
	return specs
}

func TestChatBodySizes(t *testing.T) {
	for _, kib := range Sizes {
		for name, n := range map[string]int{"ChatBody": len(ChatBody(kib)), "ChatAnswer": len(ChatAnswer(kib))} {
			if lo, hi := kib<<10*9/10, kib<<10*11/10; n < lo || n > hi {
				t.Errorf("%s(%d) is %d bytes, want %d..%d", name, kib, n, lo, hi)
			}
		}
	}
}

// TestBenchmarkBodiesRunOnce runs every wasm benchmark body once (each filter and the chain, every body size) so
// the harness cannot rot: the request must be forwarded and answered 200.
func TestBenchmarkBodiesRunOnce(t *testing.T) {
	for _, tg := range targets() {
		h, err := StartChain(specsTB(t, tg))
		if err != nil {
			t.Fatalf("%s: %v", targetName(tg), err)
		}
		for _, kib := range Sizes {
			if err := Exchange(h, CaseFor(targetName(tg), kib)); err != nil {
				t.Errorf("%s %d KiB: %v", targetName(tg), kib, err)
			}
		}
		h.Close()
	}
}

// TestLoadGeneratorRunsOnce drives the built-in load generator briefly against a gateway without filters in
// front of the mock upstream (the baseline half of the load test).
func TestLoadGeneratorRunsOnce(t *testing.T) {
	cfg, err := gateway.ParseConfig([]byte(`{"upstream":"mock","admin_listen":"off","mock":{"chunk_delay_ms":-1}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := gateway.New(cfg, gateway.Options{NoFilters: true, Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil, time.Second) }()
	l, err := RunLoad(context.Background(), "builtin", "http://"+ln.Addr().String()+"/v1/chat/completions", ChatBody(1), 300*time.Millisecond, 2)
	cancel()
	if serr := <-done; serr != nil {
		t.Errorf("serve: %v", serr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if l.Requests == 0 || l.Errors != 0 || l.RPS <= 0 || l.P50 <= 0 || l.P99 < l.P50 {
		t.Errorf("load result %+v", l)
	}
}

// BenchmarkWasm measures one request through each filter and the chain in hostsim, per body size.
func BenchmarkWasm(b *testing.B) {
	for _, tg := range targets() {
		h, err := StartChain(specsTB(b, tg))
		if err != nil {
			b.Fatal(err)
		}
		for _, kib := range Sizes {
			c := CaseFor(targetName(tg), kib)
			b.Run(fmt.Sprintf("%s/%dKiB", targetName(tg), kib), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(kib << 10))
				for i := 0; i < b.N; i++ {
					if err := Exchange(h, c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		h.Close()
	}
}

// TestNativeScannersRunOnce runs each filter's native detection step once per size.
func TestNativeScannersRunOnce(t *testing.T) {
	for _, f := range Filters {
		fn, err := NativeScanner(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, kib := range Sizes {
			if n := len(Text(kib)); n != kib<<10 {
				t.Fatalf("Text(%d) is %d bytes", kib, n)
			}
			fn(Text(kib))
		}
	}
}

// BenchmarkNative measures each filter's detection step natively, per body size.
func BenchmarkNative(b *testing.B) {
	for _, f := range Filters {
		fn, err := NativeScanner(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, kib := range Sizes {
			text := Text(kib)
			b.Run(fmt.Sprintf("%s/%dKiB", f, kib), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(text)))
				for i := 0; i < b.N; i++ {
					fn(text)
				}
			})
		}
	}
}

// TestCellsRunOnce runs the exchange cells of two modules for two rounds on both shapes: every figure of a cell is
// measured (thread CPU after another cell and repeated at once, wall times, and, on the JSON answer, the host's
// calls of the guest allocator for the 4 KiB bodies), and the stream's allocations are not timed.
func TestCellsRunOnce(t *testing.T) {
	shapes, err := LoadShapes(hostsim.RepoRoot())
	if err != nil || len(shapes) != 2 {
		t.Fatalf("shapes: %d, %v", len(shapes), err)
	}
	hostsim.DistWasm(t, "piimask") // skips (or fails under make test) without the built modules
	cells, err := StartCells(hostsim.DistDir(), "", "piimask", "tokenbudget")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range cells {
			c.Host.Close()
		}
	}()
	if len(cells) != 2 {
		t.Fatalf("%d cells", len(cells))
	}
	rs, err := RunCells(cells, shapes, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		json := r.Shape == "chat-4k"
		if r.N != 2 || r.CPUUS <= 0 || r.WarmCPUUS <= 0 || r.P50US <= 0 || (r.AllocUS > 0) != json || (r.AllocWarmUS > 0) != json {
			t.Errorf("%+v", r)
		}
	}
}
