package llm

import (
	"strings"
	"testing"
)

// promptBody is the request of promptguard's wasm request benchmark (plugins/promptguard/detect BenchmarkRequestParts):
// a short system prompt and one user turn of about n bytes of plain prose.
func promptBody(n int) []byte {
	const para = "Could you help me plan a three-day trip to Lisbon in May? I like museums, seafood and long walks, " +
		"and I would rather avoid tourist traps. Please include a rough budget in euros and tips for public transport. "
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(para)
	}
	return []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful travel agent."},{"role":"user","content":"` +
		sb.String()[:n] + `"}]}`)
}

// BenchmarkParseStages: the stages of ParseRequestWith on the 4 KiB bodies the filters' benchmarks send (one long
// user turn; a chat of many short turns with a tool call), for measuring in wasm:
//
//	GOOS=wasip1 GOARCH=wasm go test -c -o llm.wasm ./sdk/llm && wazero run -mount=sdk/llm:/ llm.wasm -test.bench=ParseStages
func BenchmarkParseStages(b *testing.B) {
	for _, c := range []struct {
		name string
		body []byte
	}{{"prompt4K", promptBody(3976)}, {"chat4K", chatBody(4 << 10)}} {
		b.Run(c.name+"/validate", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if err := validate(c.body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/parse", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if _, err := ParseRequestWith(FormatOpenAIChat, c.body, Options{Path: "/v1/chat/completions"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/residual", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				if _, err := ParseRequestWith(FormatOpenAIChat, c.body, Options{Path: "/v1/chat/completions", Residual: true, Generic: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
