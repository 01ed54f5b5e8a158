package hostsim

import (
	"bytes"
	"testing"
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
