package piimask

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/wasmguard/wasmguard/hostsim"
)

// Bypass classes of issue #10 through the built .wasm: PII in every copy of a key, in case variants, in fields
// other than the conversation (user ids, metadata, tool definitions, image URLs) and in Gemini text blobs reaches
// the masker, and the upstream body carries none of it.
func TestPIIBypassesInWasm(t *testing.T) {
	h := newHost(t, `{}`)
	blob := base64.StdEncoding.EncodeToString([]byte("notes: write to " + email))
	cases := []struct{ name, path, body string }{
		{"chat text and Text", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"mail ` + email + `","Text":"or ` + email + `"}]}]}`},
		{"chat duplicate content", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ` + email + `","content":"hi"}]}`},
		{"chat user field", "/v1/chat/completions", `{"model":"gpt-4o","user":"` + email + `","messages":[{"role":"user","content":"hi"}]}`},
		{"chat metadata", "/v1/chat/completions", `{"model":"gpt-4o","metadata":{"owner":"` + email + `"},"messages":[{"role":"user","content":"hi"}]}`},
		{"chat message name", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","name":"` + email + `","content":"hi"}]}`},
		{"chat image url", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://img.example/a.png?owner=` + email + `"}}]}]}`},
		{"chat tool description", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"send","description":"Send mail; cc ` + email + `","parameters":{"type":"object","properties":{"to":{"type":"string","description":"default ` + email + `"}}}}}]}`},
		{"anthropic metadata user_id", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":10,"metadata":{"user_id":"` + email + `"},"messages":[{"role":"user","content":"hi"}]}`},
		{"anthropic tool description", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":10,"tools":[{"name":"send","description":"cc ` + email + `","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}`},
		{"gemini inlineData text", "/v1beta/models/gemini-2.0-flash:generateContent", `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"text/plain","data":"` + blob + `"}}]}]}`},
		{"chat unknown fields", "/v1/chat/completions", `{"model":"gpt-4o","future_field":"` + email + `","web_search_options":{"user_location":{"approximate":{"city":"mail ` + email + `"}}},"messages":[{"role":"user","content":"hi","note":"` + email + `"}]}`},
		{"responses Content", "/v1/responses", `{"model":"gpt-4.1","input":[{"role":"user","content":"hi","Content":"mail ` + email + `"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := h.Do(jsonReq(c.path, c.body), hostsim.Response{Status: 200, Body: []byte(`{}`)})
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
			}
			up := string(res.Upstream.Body)
			if !gjson.Valid(up) {
				t.Fatalf("upstream body is not JSON: %s", up)
			}
			if strings.Contains(up, email) || strings.Contains(up, blob) {
				t.Fatalf("upstream still has the e-mail: %s", up)
			}
			if c.name == "gemini inlineData text" {
				dec, err := base64.StdEncoding.DecodeString(gjson.Get(up, "contents.0.parts.0.inlineData.data").String())
				if err != nil || string(dec) != "notes: write to [EMAIL]" {
					t.Fatalf("inlineData not re-encoded: %q %v", dec, err)
				}
			}
		})
	}
}

// TestEndpointPIIInWasm: endpoints and containers that piimask used to read only through its own gjson walker
// (removed): sdk/llm reads them now, with provenance, and they stay masked.
func TestEndpointPIIInWasm(t *testing.T) {
	h := newHost(t, `{}`)
	cases := []struct{ name, path, body string }{
		{"completions without v1", "/completions", `{"model":"m","prompt":"mail ` + email + `"}`},
		{"llama.cpp completion", "/completion", `{"prompt":"mail ` + email + `"}`},
		{"prefixed ollama generate", "/llm/api/generate", `{"model":"llama3","system":"owner ` + email + `","prompt":"hi"}`},
		{"assistants message", "/v1/threads/thread_1/messages", `{"role":"user","content":"mail ` + email + `"}`},
		{"assistants tool outputs", "/v1/threads/t/runs/r/submit_tool_outputs", `{"tool_outputs":[{"tool_call_id":"c","output":"found ` + email + `"}]}`},
		{"anthropic batch", "/v1/messages/batches", `{"requests":[{"custom_id":"1","params":{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"mail ` + email + `"}]}}]}`},
		{"gemini batch", "/v1beta/models/gemini-2.0-flash:batchGenerateContent", `{"batch":{"input_config":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":"mail ` + email + `"}]}]}}]}}}}`},
		{"conversation items", "/v1/conversations/c/items", `{"items":[{"type":"message","role":"user","content":[{"type":"input_text","text":"mail ` + email + `"}]}]}`},
		{"unknown path, generic reader", "/v1/tool-server/run", `{"args":{"deep":[{"x":"mail ` + email + `"}]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := h.Do(jsonReq(c.path, c.body), hostsim.Response{Status: 200, Body: []byte(`{}`)})
			if res.Upstream == nil {
				t.Fatalf("not forwarded: %d %s", res.Status, res.Body)
			}
			up := string(res.Upstream.Body)
			if !gjson.Valid(up) || strings.Contains(up, email) || !strings.Contains(up, "[EMAIL]") {
				t.Fatalf("upstream: %s", up)
			}
		})
	}
}
