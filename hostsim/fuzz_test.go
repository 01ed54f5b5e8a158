package hostsim

import (
	"bytes"
	"testing"
)

// FuzzChunkedBody: however the body is chunked (request and response), a plugin that
// buffers to end of stream and rewrites sees the whole body, the upstream receives
// exactly the rewritten body, and the client exactly the upstream's response.
func FuzzChunkedBody(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":"hello"}]}`), uint8(7), uint8(3), uint8(0))
	f.Add([]byte("x"), uint8(1), uint8(1), uint8(2))
	f.Add(bytes.Repeat([]byte("ab"), 600), uint8(0), uint8(255), uint8(1))
	var hosts [3]*Host
	f.Cleanup(func() {
		for _, h := range hosts {
			if h != nil {
				h.Close()
			}
		}
	})
	f.Fuzz(func(t *testing.T, body []byte, reqChunk, respChunk, prof uint8) {
		if len(body) == 0 || len(body) > 4096 {
			return
		}
		p := Profiles[int(prof)%len(Profiles)]
		if hosts[int(prof)%3] == nil {
			h, err := Start(Config{Profile: p, Workers: 1, NoCanary: true,
				Plugins: []PluginSpec{{Name: "conf", Wasm: testPlugin(t, "conformance")}}})
			if err != nil {
				t.Fatal(err)
			}
			hosts[int(prof)%3] = h
		}
		h := hosts[int(prof)%3]
		var chunks [][]byte
		if respChunk > 0 {
			for off := 0; off < len(body); off += int(respChunk) {
				chunks = append(chunks, body[off:min(off+int(respChunk), len(body))])
			}
		}
		res := h.Do(Request{Body: body, ChunkSize: int(reqChunk), Headers: act("rewrite;remove-cl")},
			Response{Chunks: chunks, Body: body})
		if res.Trapped || res.Upstream == nil {
			t.Fatalf("%s: trapped=%v traps=%v", p, res.Trapped, res.Traps)
		}
		if !bytes.Equal(res.Upstream.Body, bytes.ToUpper(body)) {
			t.Fatalf("%s: upstream body %q, want %q", p, res.Upstream.Body, bytes.ToUpper(body))
		}
		if !bytes.Equal(res.Body, body) || !bytes.Equal(bytes.Join(res.Chunks, nil), body) {
			t.Fatalf("%s: client body %q (chunks %q), want %q", p, res.Body, res.Chunks, body)
		}
	})
}
