package promptguard

import (
	"testing"
)

// Bypass classes of issue #10 through the built .wasm: the attack in a form the provider reads (a case variant
// of a key, a duplicate key, a part whose type would hide its text) must be scored like the plain form.
func TestKeyBypassesInWasm(t *testing.T) {
	h := newHost(t, `{}`)
	a := jsonStr(attackText)
	cases := []struct{ name, path, body string }{
		{"chat text then empty Text", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":` + a + `,"Text":""}]}]}`},
		{"chat Text then empty text", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","Text":` + a + `,"text":""}]}]}`},
		{"chat duplicate text", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":` + a + `,"text":"hello"}]}]}`},
		{"chat Type image_url", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":` + a + `,"Type":"image_url"}]}]}`},
		{"chat duplicate content", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":` + a + `,"content":"hello"}]}`},
		{"chat Content", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hello","Content":` + a + `}]}`},
		{"anthropic Content", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":"hello","Content":` + a + `}]}`},
		{"anthropic block Text", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi","Text":` + a + `}]}]}`},
		{"responses Content", "/v1/responses", `{"model":"gpt-4.1","input":[{"role":"user","content":"hello","Content":` + a + `}]}`},
		{"responses part duplicate", "/v1/responses", `{"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_text","text":` + a + `,"text":"hi"}]}]}`},
		{"gemini Parts", "/v1beta/models/gemini-2.0-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}],"Parts":[{"text":` + a + `}]}]}`},
		{"escaped key", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","t\u0065xt":` + a + `,"text":""}]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := do(h, c.path, []byte(c.body), 0)
			if res.Upstream != nil || !res.LocalReply || res.Status != 400 {
				t.Fatalf("not blocked: status %d local %v upstream %v; logs %v", res.Status, res.LocalReply, res.Upstream != nil, res.Logs)
			}
		})
	}
}
