package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMockLLMNonStreaming(t *testing.T) {
	srv := httptest.NewServer(NewMockLLM(MockOptions{ChunkDelay: -1}))
	defer srv.Close()
	cases := []struct {
		name, path, body string
		want             []string // substrings of the answer body
	}{
		{"openai chat", "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"system","content":"be nice"},{"role":"user","content":"mail <EMAIL_1> please"}]}`,
			[]string{`"object":"chat.completion"`, `mail \u003cEMAIL_1\u003e please`, `"prompt_tokens":`, `"model":"gpt-4o"`}},
		{"azure chat", "/openai/deployments/d1/chat/completions?api-version=2024-06-01", `{"messages":[{"role":"user","content":[{"type":"text","text":"hi there"}]}]}`,
			[]string{`"chat.completion"`, `hi there`}},
		{"responses", "/v1/responses", `{"model":"gpt-4.1","input":"what is 2+2"}`,
			[]string{`"object":"response"`, `"output_text"`, `what is 2+2`, `"input_tokens":`}},
		{"anthropic", "/v1/messages", `{"model":"claude-sonnet-4","max_tokens":100,"messages":[{"role":"user","content":"bonjour"}]}`,
			[]string{`"type":"message"`, `bonjour`, `"stop_reason":"end_turn"`, `"output_tokens":`}},
		{"gemini", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hallo"}]}]}`,
			[]string{`"candidates"`, `hallo`, `"usageMetadata"`, `gemini-2.5-flash`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if !json.Valid(b) {
				t.Fatalf("answer is not JSON: %s", b)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("answer lacks %q: %s", w, b)
				}
			}
		})
	}
}

func TestMockLLMStreams(t *testing.T) {
	srv := httptest.NewServer(NewMockLLM(MockOptions{ChunkDelay: 5 * time.Millisecond, Answer: "one two three"}))
	defer srv.Close()
	cases := []struct {
		name, path, body string
		want             []string // in order
	}{
		{"openai chat usage", "/v1/chat/completions", `{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}`,
			[]string{`"role":"assistant"`, `"content":"one "`, `"content":"two "`, `"content":"three"`, `"finish_reason":"stop"`, `"choices":[]`, `"usage"`, `[DONE]`}},
		{"responses", "/v1/responses", `{"stream":true,"input":[{"role":"user","content":"x"}]}`,
			[]string{`event: response.created`, `"delta":"one "`, `event: response.output_text.done`, `event: response.completed`, `"output_tokens"`}},
		{"anthropic", "/v1/messages", `{"stream":true,"max_tokens":5,"messages":[{"role":"user","content":"x"}]}`,
			[]string{`event: message_start`, `"text":"one "`, `event: message_delta`, `"output_tokens"`, `event: message_stop`}},
		{"gemini", "/v1beta/models/g:streamGenerateContent?alt=sse", `{"contents":[{"parts":[{"text":"x"}]}]}`,
			[]string{`"text":"one "`, `"text":"three"`, `"finishReason":"STOP"`, `"usageMetadata"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("content-type"); ct != "text/event-stream" {
				t.Fatalf("content-type %q", ct)
			}
			var all strings.Builder
			events := 0
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				line := sc.Text()
				if line == "" {
					events++
				}
				if strings.HasPrefix(line, "data: ") && !strings.Contains(line, "[DONE]") && !json.Valid([]byte(line[6:])) {
					t.Errorf("event data is not JSON: %s", line)
				}
				all.WriteString(line + "\n")
			}
			s := all.String()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(s[at:], w)
				if i < 0 {
					t.Fatalf("stream lacks %q after offset %d:\n%s", w, at, s)
				}
				at += i
			}
			if events < 3 {
				t.Errorf("got %d events, want one per word at least", events)
			}
		})
	}
}

func TestMockLLMErrorStatus(t *testing.T) {
	srv := httptest.NewServer(NewMockLLM(MockOptions{}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/messages", strings.NewReader(`{"messages":[]}`))
	req.Header.Set(MockHeaderStatus, "529")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 529 || !strings.Contains(string(b), `"type":"error"`) {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
}

// TestMockStreamGrammars checks the complete event grammar of each provider's stream: the Responses API's event
// types in order with consecutive sequence_numbers (what the OpenAI SDKs' ResponseStream accumulates), Anthropic's
// message events, Gemini's JSON-array stream without alt=sse, and Ollama's NDJSON (streamed by default).
func TestMockStreamGrammars(t *testing.T) {
	srv := httptest.NewServer(NewMockLLM(MockOptions{ChunkDelay: -1, Answer: "one two"}))
	defer srv.Close()
	post := func(path, body string) (string, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.Header.Get("content-type"), string(b)
	}
	sseTypes := func(s string) ([]string, []map[string]any) {
		var types []string
		var datas []map[string]any
		for _, ev := range strings.Split(strings.TrimSpace(s), "\n\n") {
			var name string
			var data map[string]any
			for _, line := range strings.Split(ev, "\n") {
				if v, ok := strings.CutPrefix(line, "event: "); ok {
					name = v
				}
				if v, ok := strings.CutPrefix(line, "data: "); ok {
					if err := json.Unmarshal([]byte(v), &data); err != nil {
						t.Fatalf("data not JSON: %s", v)
					}
				}
			}
			if name != data["type"] {
				t.Errorf("event %q carries type %v", name, data["type"])
			}
			types = append(types, name)
			datas = append(datas, data)
		}
		return types, datas
	}

	_, s := post("/v1/responses", `{"model":"gpt-4.1","stream":true,"input":"x"}`)
	types, datas := sseTypes(s)
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
		"response.output_item.done", "response.completed"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("responses events\n got %v\nwant %v", types, want)
	}
	for i, d := range datas {
		if d["sequence_number"] != float64(i) {
			t.Errorf("event %d (%s) sequence_number %v", i, types[i], d["sequence_number"])
		}
	}
	final, _ := datas[len(datas)-1]["response"].(map[string]any)
	if out, _ := final["output"].([]any); len(out) != 1 || !strings.Contains(fmt.Sprint(out), "one two") || final["usage"] == nil {
		t.Errorf("response.completed: %v", final)
	}

	_, s = post("/v1/messages", `{"model":"claude","stream":true,"max_tokens":9,"messages":[{"role":"user","content":"x"}]}`)
	types, _ = sseTypes(s)
	want = []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("anthropic events\n got %v\nwant %v", types, want)
	}

	ct, s := post("/v1beta/models/gemini-2.0-flash:streamGenerateContent", `{"contents":[{"role":"user","parts":[{"text":"x"}]}]}`)
	var arr []map[string]any
	if ct != "application/json" || json.Unmarshal([]byte(s), &arr) != nil || len(arr) != 2 {
		t.Errorf("gemini without alt=sse: %q %s", ct, s)
	}

	for _, path := range []string{"/api/chat", "/api/generate"} {
		ct, s = post(path, `{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"prompt":"x"}`)
		lines := strings.Split(strings.TrimSpace(s), "\n")
		var last map[string]any
		if ct != "application/x-ndjson" || len(lines) != 3 || json.Unmarshal([]byte(lines[2]), &last) != nil ||
			last["done"] != true || last["eval_count"] == nil {
			t.Errorf("ollama %s: %q %s", path, ct, s)
		}
		_, s = post(path, `{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"x"}],"prompt":"x"}`)
		if err := json.Unmarshal([]byte(s), &last); err != nil || last["done"] != true || !strings.Contains(s, "one two") {
			t.Errorf("ollama %s stream:false: %s", path, s)
		}
	}
}
