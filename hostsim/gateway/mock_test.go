package gateway

import (
	"bufio"
	"encoding/json"
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
