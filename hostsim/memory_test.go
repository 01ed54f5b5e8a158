package hostsim

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestMemorySize reports the live linear memory of one VM: whole wasm pages, larger
// after the plugin buffered and read an 8 MiB body on that worker, unchanged on the
// worker that did nothing, and not ok for an unknown plugin or worker.
func TestMemorySize(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 2; c.BufferLimit = 16 << 20 })
	before0, ok0 := h.MemorySize("conf", 0)
	before1, ok1 := h.MemorySize("conf", 1)
	if !ok0 || !ok1 || before0 == 0 || before0%65536 != 0 {
		t.Fatalf("MemorySize after start: %d %v, %d %v", before0, ok0, before1, ok1)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	r := h.DoOn(0, Request{Path: "/v1/chat/completions", Headers: act("buffer"), Body: body, ChunkSize: 16 << 10},
		func(*UpstreamRequest) Response { return Response{Body: []byte("ok")} })
	if r.Status != 200 || r.Upstream == nil || len(r.Upstream.Body) != len(body) {
		t.Fatalf("request: status %d trapped %v %v", r.Status, r.Trapped, r.Traps)
	}
	after0, _ := h.MemorySize("conf", 0)
	after1, _ := h.MemorySize("conf", 1)
	if after0 < before0+uint32(len(body)) {
		t.Errorf("worker 0 memory %d bytes after reading an %d-byte body (was %d)", after0, len(body), before0)
	}
	if after1 != before1 {
		t.Errorf("idle worker 1 memory changed: %d -> %d", before1, after1)
	}
	if _, ok := h.MemorySize("nope", 0); ok {
		t.Error("unknown plugin reported a size")
	}
	if _, ok := h.MemorySize("conf", 2); ok {
		t.Error("worker 2 of 2 reported a size")
	}
	if _, ok := h.MemorySize("conf", -1); ok {
		t.Error("worker -1 reported a size")
	}
}

// TestLinearMemoryGrowsInPlace: a VM's linear memory is reserved at its maximum and grows in place, as V8 and
// WAMR grow it in Envoy, so memory.grow never copies the memory; with Config.CopyingMemory (wazero's default
// backing) the same growth moves it. The 8 MiB body makes the guest grow its memory by more than 8 MiB.
func TestLinearMemoryGrowsInPlace(t *testing.T) {
	if reserveMemory(1<<20) == nil {
		t.Skip("no reserved linear memory on this platform")
	}
	for _, copying := range []bool{false, true} {
		h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 1; c.NoCanary = true; c.BufferLimit = 16 << 20; c.CopyingMemory = copying })
		base := func() (uintptr, uint32) {
			v := h.workers[0].vms[0]
			b, ok := v.mem.Read(0, 1)
			if !ok {
				t.Fatal("cannot read linear memory")
			}
			return uintptr(unsafe.Pointer(&b[0])), v.mem.Size()
		}
		addr0, size0 := base()
		body := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
		r := h.DoOn(0, Request{Path: "/v1/chat/completions", Headers: act("buffer"), Body: body, ChunkSize: 16 << 10},
			func(*UpstreamRequest) Response { return Response{Body: []byte("ok")} })
		if r.Status != 200 || r.Upstream == nil || !bytes.Equal(r.Upstream.Body, body) {
			t.Fatalf("copying=%v: status %d trapped %v %v", copying, r.Status, r.Trapped, r.Traps)
		}
		addr1, size1 := base()
		if size1 < size0+8<<20 {
			t.Fatalf("copying=%v: memory grew from %d to %d bytes only", copying, size0, size1)
		}
		if moved := addr1 != addr0; moved != copying {
			t.Errorf("copying=%v: growing the memory from %d to %d bytes moved it: %v", copying, size0, size1, moved)
		}
	}
}

// TestAllocSamples: with Config.TimeAllocations the host records each call of the guest's allocator (the body
// the plugin reads arrives through one), with its size and a CPU time; without it, nothing.
func TestAllocSamples(t *testing.T) {
	for _, timed := range []bool{true, false} {
		h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 1; c.NoCanary = true; c.TimeAllocations = timed })
		h.AllocSamples() // start-up's
		body := bytes.Repeat([]byte("x"), 100_000)
		r := h.DoOn(0, Request{Path: "/v1/chat/completions", Headers: act("buffer"), Body: body},
			func(*UpstreamRequest) Response { return Response{Body: []byte("ok")} })
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		samples := h.AllocSamples()
		var body0 *AllocSample
		for i, s := range samples {
			if s.Plugin != "conf" || s.Size <= 0 {
				t.Errorf("sample %+v", s)
			}
			if s.Size == len(body) {
				body0 = &samples[i]
			}
		}
		switch {
		case !timed && len(samples) > 0:
			t.Errorf("%d samples without TimeAllocations", len(samples))
		case timed && (body0 == nil || body0.CPU <= 0):
			t.Errorf("no timed allocation of the %d-byte body among %+v", len(body), samples)
		case len(h.AllocSamples()) != 0:
			t.Error("AllocSamples did not forget what it returned")
		}
	}
}
