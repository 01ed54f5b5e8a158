package main

import (
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
)

// Round trips through the built .wasm in hostsim (Envoy profile, default config, all checks on): includes the
// host's work, so it is an upper bound on the filter's own cost.

func benchAnswer() string {
	return strings.Repeat("The capital of France is Paris. It has many museums, see https://en.wikipedia.org/wiki/Paris and "+
		"the **Louvre**. Use `pip install requests` to fetch pages.\n", 100) // ~16 KiB
}

func BenchmarkWasmNonStreamed16K(b *testing.B) { benchNonStreamed(b, `{}`) }

// BenchmarkWasmNonStreamed16KOff: every check disabled, the filter passes the body through: the host's share.
func BenchmarkWasmNonStreamed16KOff(b *testing.B) {
	benchNonStreamed(b, `{"exfiltration":{"enabled":false},"unsafe_markup":{"enabled":false},"secrets":{"enabled":false},"prompt_leak":{"enabled":false}}`)
}

func benchNonStreamed(b *testing.B, cfg string) {
	h := hostsim.New(b, hostsim.Config{Plugins: []hostsim.PluginSpec{{Name: "outputguard", Wasm: hostsim.DistWasm(b, "outputguard"), Config: []byte(cfg)}}})
	text := benchAnswer()
	req := chatRequest("You are a helpful assistant. The access code is zenith42.", false)
	resp := jsonResponse(chatCompletion(text))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Do(req, resp)
	}
}

func BenchmarkWasmStream16K(b *testing.B) {
	h := hostsim.New(b, hostsim.Config{Plugins: []hostsim.PluginSpec{{Name: "outputguard", Wasm: hostsim.DistWasm(b, "outputguard"), Config: []byte(`{}`)}}})
	text := benchAnswer()
	c := streamCases[0]
	stream := c.build(splitTokens(text))
	req := streamRequest(c, "You are a helpful assistant. The access code is zenith42.")
	resp := hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunkBytes(stream, 1024)}
	// bytes of the SSE stream (each ~5-byte token travels in a ~170-byte event)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Do(req, resp)
	}
}
