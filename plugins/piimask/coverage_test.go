package piimask

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Every response body a client can read is masked / restored or refused (issue 11, deliverable 3): Ollama NDJSON
// streams, JSON under a wrong content type, codings piimask cannot read. Through the built dist/piimask.wasm.

func ollamaLines(pieces ...string) []byte {
	var b strings.Builder
	for _, p := range pieces {
		fmt.Fprintf(&b, `{"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":%s},"done":false}`+"\n", strconv.Quote(p))
	}
	b.WriteString(`{"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","eval_count":9}` + "\n")
	return []byte(b.String())
}

func ollamaText(t *testing.T, body []byte) string {
	t.Helper()
	ds, err := llm.ReadStream(llm.FormatOllama, body)
	if err != nil {
		t.Fatalf("client got an unparseable NDJSON stream: %v\n%s", err, body)
	}
	var out strings.Builder
	for _, d := range ds {
		if d.Kind == llm.DeltaText {
			out.WriteString(d.Text)
		}
	}
	return out.String()
}

func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for i := 0; i < len(b); i += n {
		out = append(out, b[i:min(len(b), i+n)])
	}
	return out
}

// mask_responses masks what the model writes in an Ollama NDJSON stream (the default of /api/chat).
func TestCoverageNDJSONMasked(t *testing.T) {
	h := newHost(t, `{"mask_responses":true}`)
	req := jsonReq("/api/chat", `{"model":"llama3","messages":[{"role":"user","content":"hi"}]}`)
	stream := ollamaLines("Your key is AKIAIOSF", "ODNN7EXAMPLE and the mail is ja", "ne.doe@exam", "ple.com ok")
	for _, n := range []int{1, 13, 100000} {
		res := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/x-ndjson"}}, Chunks: splitEvery(stream, n)})
		for _, v := range []string{akey, email, "AKIAIOSF", "ne.doe@exam", "ODNN7EXAMPLE"} {
			if strings.Contains(string(res.Body), v) {
				t.Fatalf("chunk %d: %q reaches the client: %s", n, v, res.Body)
			}
		}
		if got := ollamaText(t, res.Body); got != "Your key is [AWS_ACCESS_KEY] and the mail is [EMAIL] ok" {
			t.Errorf("chunk %d: client text %q", n, got)
		}
	}
}

// restore_responses restores placeholders split across NDJSON lines.
func TestCoverageNDJSONRestored(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	req := jsonReq("/api/chat", `{"model":"llama3","messages":[{"role":"user","content":"Write to `+email+` please"}]}`)
	first := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/x-ndjson"}}, Body: ollamaLines("ok")})
	pe := placeholderRE.FindString(string(first.Upstream.Body))
	if pe == "" {
		t.Fatalf("request not tokenized: %s", first.Upstream.Body)
	}
	stream := ollamaLines("I will mail ", pe[:6], pe[6:], " today.")
	for _, n := range []int{1, 17, 100000} {
		res := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/x-ndjson"}}, Chunks: splitEvery(stream, n)})
		if got := ollamaText(t, res.Body); got != "I will mail "+email+" today." {
			t.Errorf("chunk %d: client text %q", n, got)
		}
	}
}

// JSON (and Ollama's JSON lines) under text/plain or no content type is masked like JSON.
func TestCoverageJSONWrongContentType(t *testing.T) {
	h := newHost(t, `{"mask_responses":true}`)
	req := jsonReq("/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion", "model": "gpt-4o", "choices": []any{
		map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "mail " + email + " key " + akey}, "finish_reason": "stop"}}})
	for _, ct := range []string{"text/plain; charset=utf-8", ""} {
		hdrs := [][2]string{}
		if ct != "" {
			hdrs = append(hdrs, [2]string{"content-type", ct})
		}
		res := h.Do(req, hostsim.Response{Status: 200, Headers: hdrs, Chunks: splitEvery(b, 40)})
		if strings.Contains(string(res.Body), email) || strings.Contains(string(res.Body), akey) {
			t.Errorf("%q: values reach the client: %s", ct, res.Body)
		}
		r, err := llm.ParseResponse(llm.FormatOpenAIChat, res.Body)
		if err != nil || r.Text(llm.ProvAssistant) != "mail [EMAIL] key [AWS_ACCESS_KEY]" {
			t.Errorf("%q: client body %s (%v)", ct, res.Body, err)
		}
	}
	res0 := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: append([]byte("\ufeff"), b...)})
	if strings.Contains(string(res0.Body), email) || strings.Contains(string(res0.Body), akey) {
		t.Errorf("JSON with a byte order mark: values reach the client: %s", res0.Body)
	}
	oreq := jsonReq("/api/chat", `{"model":"llama3","messages":[{"role":"user","content":"hi"}]}`)
	res := h.Do(oreq, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}},
		Chunks: splitEvery(ollamaLines("mail ", "jane.doe@", "example.com ok"), 30)})
	if got := ollamaText(t, res.Body); got != "mail [EMAIL] ok" {
		t.Errorf("NDJSON as text/plain: client text %q", got)
	}
	plain := []byte("plain text " + email)
	res = h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Body: plain})
	if string(res.Body) != string(plain) {
		t.Errorf("plain text changed: %q", res.Body)
	}
}

// A coding piimask cannot read, with mask_responses: refused under on_error deny, passed and logged under allow.
func TestCoverageUnreadableCoding(t *testing.T) {
	req := jsonReq("/v1/chat/completions", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	stream := chatSSE("mail "+email, " ok")
	for _, onErr := range []string{"deny", "allow"} {
		t.Run(onErr, func(t *testing.T) {
			h := newHost(t, `{"mask_responses":true,"on_error":"`+onErr+`"}`)
			res := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}, {"content-encoding", "compress"}},
				Chunks: splitEvery(stream, 50)})
			var d *telemetry.Decision
			for _, x := range decisions(t, res.Logs) {
				if x.Reason == telemetry.ReasonUnsupportedEncoding {
					d = &x
				}
			}
			if d == nil {
				t.Fatalf("no unsupported_content_encoding decision: %v", res.Logs)
			}
			if onErr == "allow" {
				if string(res.Body) != string(stream) || d.Action != "allow" {
					t.Errorf("allow: body changed or action %q", d.Action)
				}
				return
			}
			if d.Action != "block" || strings.Contains(string(res.Body), email) || !strings.Contains(string(res.Body), "unsupported_content_encoding") {
				t.Errorf("deny: action %q, client body %q", d.Action, res.Body)
			}
			if enc, ok := res.Header("content-encoding"); ok {
				t.Errorf("client still told content-encoding %q", enc)
			}
		})
	}
}

// Text from an endpoint that is no LLM API (a download, a file) is not collected: it streams through as sent.
func TestCoverageNonLLMTextStreamsThrough(t *testing.T) {
	h := newHost(t, `{"mask_responses":true}`)
	req := hostsim.Request{Method: "GET", Path: "/files/notes.txt"}
	chunks := [][]byte{[]byte(`{"note":"first half `), []byte(`second half"}`)}
	res := h.Do(req, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/plain"}}, Chunks: chunks})
	if len(res.Chunks) != 2 || string(res.Chunks[0]) != string(chunks[0]) {
		t.Errorf("chunks %q", res.Chunks)
	}
}
