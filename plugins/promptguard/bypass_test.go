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

// TestEndpointBypassesInWasm: endpoints that used to pass unscanned (issue #10): the attack in each is blocked.
func TestEndpointBypassesInWasm(t *testing.T) {
	h := newHost(t, `{}`)
	a := jsonStr(attackText)
	cases := []struct{ name, path, body string }{
		{"completions without v1", "/completions", `{"model":"m","prompt":` + a + `}`},
		{"engines completions", "/v1/engines/davinci/completions", `{"prompt":` + a + `}`},
		{"llama.cpp completion", "/completion", `{"prompt":` + a + `,"n_predict":16}`},
		{"llama.cpp infill", "/infill", `{"input_prefix":` + a + `,"input_suffix":""}`},
		{"prefixed ollama generate", "/llm/api/generate", `{"model":"llama3","prompt":` + a + `}`},
		// system-like text is flagged only with a signal no benign instruction carries (roles_test.go)
		{"ollama generate system", "/api/generate", `{"model":"llama3","system":` + jsonStr(systemAttack) + `,"prompt":"hi"}`},
		{"ollama generate template", "/api/generate", `{"model":"llama3","template":` + jsonStr(systemAttack) + `,"prompt":"hi"}`},
		{"assistants instructions", "/v1/threads/thread_1/runs", `{"assistant_id":"asst_1","additional_instructions":` + jsonStr(systemAttack) + `}`},
		{"assistants message", "/v1/threads/thread_1/messages", `{"role":"user","content":` + a + `}`},
		{"assistants run additional_messages", "/v1/threads/thread_1/runs", `{"assistant_id":"asst_1","additional_messages":[{"role":"user","content":` + a + `}]}`},
		{"assistants create thread", "/v1/threads", `{"messages":[{"role":"user","content":[{"type":"text","text":` + a + `}]}]}`},
		{"anthropic batch", "/v1/messages/batches", `{"requests":[{"custom_id":"1","params":{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":` + a + `}]}}]}`},
		{"conversation items", "/v1/conversations/conv_1/items", `{"items":[{"type":"message","role":"user","content":[{"type":"input_text","text":` + a + `}]}]}`},
		{"gemini batch", "/v1beta/models/gemini-2.0-flash:batchGenerateContent", `{"batch":{"input_config":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":` + a + `}]}]}}]}}}}`},
		{"responses shell output", "/v1/responses", `{"model":"gpt-4.1","input":[{"type":"shell_call_output","call_id":"s","output":[{"stdout":` + a + `}]}]}`},
		{"responses file search results", "/v1/responses", `{"model":"gpt-4.1","input":[{"type":"file_search_call","id":"f","results":[{"text":` + a + `}]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := do(h, c.path, []byte(c.body), 0)
			if res.Upstream != nil || !res.LocalReply {
				t.Fatalf("not blocked: status %d local %v upstream %v; logs %v", res.Status, res.LocalReply, res.Upstream != nil, res.Logs)
			}
		})
	}
	// Token ids cannot be inspected: on_error (default deny) refuses them instead of passing them.
	res := do(h, "/v1/completions", []byte(`{"model":"m","prompt":[1212,318,257]}`), 0)
	if res.Upstream != nil || !res.LocalReply {
		t.Fatalf("token-id prompt passed: status %d", res.Status)
	}
}
