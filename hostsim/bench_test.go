package hostsim

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkNoopRequest measures hostsim's per-request overhead with a filter that does
// nothing: context create → request headers → body → response headers/body → log →
// done → delete, per request body size.
func BenchmarkNoopRequest(b *testing.B) {
	h := New(b, Config{Workers: 1, Plugins: []PluginSpec{{Name: "noop", Wasm: testPlugin(b, "noop")}}})
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		body := bytes.Repeat([]byte("a"), size)
		req := Request{Path: "/v1/chat/completions", Headers: [][2]string{{"content-type", "application/json"}}, Body: body}
		resp := Response{Body: []byte(`{"ok":true}`)}
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				res := h.Do(req, resp)
				if res.Status != 200 {
					b.Fatalf("status %d", res.Status)
				}
			}
		})
	}
}

// BenchmarkConformanceBufferedBody is a filter that buffers and reads the whole body
// (the common wasmguard pattern) with 16 KiB chunks.
func BenchmarkConformanceBufferedBody(b *testing.B) {
	h := New(b, Config{Workers: 1, Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(b, "conformance")}}})
	body := bytes.Repeat([]byte("a"), 64<<10)
	req := Request{Body: body, ChunkSize: 16 << 10, Headers: act("buffer")}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if res := h.Do(req, Response{}); res.Status != 200 {
			b.Fatalf("status %d", res.Status)
		}
	}
}
