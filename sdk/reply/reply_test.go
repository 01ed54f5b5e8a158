package reply

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/sse"
)

func TestErrorShapes(t *testing.T) {
	const msg = "request blocked by the prompt-injection policy"
	tests := []struct {
		f      llm.Format
		status int
		checks map[string]string // gjson path -> expected value (String())
		absent []string
	}{
		{llm.FormatOpenAIChat, 403, map[string]string{
			"error.message": msg + " (request id: req-1)", "error.type": "invalid_request_error",
			"error.code": "prompt_injection_detected", "error.param": ""}, nil},
		{llm.FormatOpenAIResponses, 429, map[string]string{"error.type": "rate_limit_error", "error.code": "prompt_injection_detected"}, nil},
		{llm.FormatUnknown, 500, map[string]string{"error.type": "server_error"}, nil},
		{llm.FormatAnthropic, 403, map[string]string{
			"type": "error", "error.type": "permission_error", "error.message": msg + " (reason: prompt_injection_detected)",
			"request_id": "req-1"}, []string{"error.code"}},
		{llm.FormatAnthropic, 413, map[string]string{"error.type": "request_too_large"}, nil},
		{llm.FormatAnthropic, 400, map[string]string{"error.type": "invalid_request_error"}, nil},
		{llm.FormatGemini, 403, map[string]string{
			"error.code": "403", "error.message": msg, "error.status": "PERMISSION_DENIED",
			"error.details.0.@type": "type.googleapis.com/google.rpc.ErrorInfo", "error.details.0.reason": "prompt_injection_detected",
			"error.details.0.domain": "wasmguard", "error.details.0.metadata.request_id": "req-1"}, nil},
		{llm.FormatGemini, 429, map[string]string{"error.status": "RESOURCE_EXHAUSTED"}, nil},
		{llm.FormatOllama, 403, map[string]string{"error": msg + " (reason: prompt_injection_detected; request id: req-1)"}, nil},
	}
	for _, tc := range tests {
		t.Run(string(tc.f)+"/"+itoa(tc.status), func(t *testing.T) {
			h, body := Error(tc.f, tc.status, "prompt_injection_detected", msg, "req-1")
			if !gjson.ValidBytes(body) {
				t.Fatalf("invalid JSON: %s", body)
			}
			r := gjson.ParseBytes(body)
			for p, want := range tc.checks {
				if got := r.Get(p); got.String() != want || (want != "" && !got.Exists()) {
					t.Errorf("%s = %q, want %q (body %s)", p, got.String(), want, body)
				}
			}
			for _, p := range tc.absent {
				if r.Get(p).Exists() {
					t.Errorf("%s present", p)
				}
			}
			want := [][2]string{{"content-type", "application/json"}, {"x-wasmguard-reason", "prompt_injection_detected"}, {"x-request-id", "req-1"}}
			if len(h) != 3 || h[0] != want[0] || h[1] != want[1] || h[2] != want[2] {
				t.Errorf("headers %v", h)
			}
		})
	}
}

func itoa(i int) string {
	return string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

func TestOpenAIParamIsNull(t *testing.T) {
	_, body := Error(llm.FormatOpenAIChat, 400, "c", "m", "")
	if got := gjson.GetBytes(body, "error.param"); got.Type != gjson.Null || !got.Exists() {
		t.Fatalf("param = %v", got)
	}
	if gjson.GetBytes(body, "error.message").String() != "m" {
		t.Fatal("no request id must mean no suffix")
	}
	h, _ := Error(llm.FormatOpenAIChat, 400, "c", "m", "")
	if len(h) != 2 {
		t.Fatalf("x-request-id set without an id: %v", h)
	}
}

func TestNoRequestID(t *testing.T) {
	for _, f := range []llm.Format{llm.FormatAnthropic, llm.FormatGemini} {
		_, body := Error(f, 403, "c", "m", "")
		if !gjson.ValidBytes(body) || strings.Contains(string(body), "request_id") {
			t.Fatalf("%s: %s", f, body)
		}
	}
	_, body := Error(llm.FormatGemini, 403, "c", "m", "")
	if gjson.GetBytes(body, "error.details.0.reason").String() != "c" {
		t.Fatalf("%s", body)
	}
}

func TestEscaping(t *testing.T) {
	_, body := Error(llm.FormatAnthropic, 400, "c", "quote \" backslash \\ newline \n ctl \x01 bad \xff sep \u2028", "id\"")
	if !gjson.ValidBytes(body) {
		t.Fatalf("invalid JSON: %s", body)
	}
	if got := gjson.GetBytes(body, "request_id").String(); got != `id"` {
		t.Fatalf("request_id = %q", got)
	}
}

func TestStreamError(t *testing.T) {
	tests := []struct {
		f       llm.Format
		events  int
		event   string
		checks  map[string]string
		wantEnd string
	}{
		{llm.FormatOpenAIChat, 2, "", map[string]string{"error.code": "output_blocked", "error.type": "invalid_request_error", "error.message": "blocked (request id: r9)"}, "data: [DONE]\n\n"},
		{llm.FormatUnknown, 2, "", map[string]string{"error.code": "output_blocked"}, "data: [DONE]\n\n"},
		{llm.FormatOpenAIResponses, 1, "error", map[string]string{"type": "error", "code": "output_blocked", "message": "blocked (request id: r9)", "param": ""}, ""},
		{llm.FormatAnthropic, 1, "error", map[string]string{"type": "error", "error.type": "invalid_request_error", "error.message": "blocked (reason: output_blocked; request id: r9)"}, ""},
		{llm.FormatGemini, 1, "", map[string]string{"error.code": "400", "error.status": "INVALID_ARGUMENT", "error.details.0.reason": "output_blocked"}, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.f), func(t *testing.T) {
			out := StreamError(tc.f, "output_blocked", "blocked", "r9")
			var dec sse.Decoder
			evs := dec.Feed(out)
			if len(dec.Pending()) != 0 {
				t.Fatalf("incomplete event left: %q", dec.Pending())
			}
			if len(evs) != tc.events {
				t.Fatalf("%d events, want %d: %q", len(evs), tc.events, out)
			}
			ev := evs[0]
			if ev.Event != tc.event {
				t.Fatalf("event %q, want %q", ev.Event, tc.event)
			}
			if !gjson.Valid(ev.Data) {
				t.Fatalf("data is not JSON: %q", ev.Data)
			}
			for p, want := range tc.checks {
				if got := gjson.Get(ev.Data, p).String(); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			if tc.wantEnd != "" && !strings.HasSuffix(string(out), tc.wantEnd) {
				t.Fatalf("missing terminator: %q", out)
			}
		})
	}
	// Ollama streams NDJSON: one JSON object per line
	out := StreamError(llm.FormatOllama, "output_blocked", "blocked", "")
	if !strings.HasSuffix(string(out), "}\n") || !gjson.Valid(strings.TrimSpace(string(out))) ||
		gjson.Get(string(out), "error").String() != "blocked (reason: output_blocked)" {
		t.Fatalf("ollama stream error %q", out)
	}
	// a different status changes the type
	out = StreamErrorStatus(llm.FormatAnthropic, 529, "upstream_overloaded", "busy", "")
	if !strings.Contains(string(out), `"type":"overloaded_error"`) {
		t.Fatalf("%s", out)
	}
}

func BenchmarkError(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Error(llm.FormatOpenAIChat, 403, "prompt_injection_detected", "request blocked by policy", "9f1c-2b")
	}
}

// TestFamilyShapes: a batch or Assistants request gets the error shape of its family.
func TestFamilyShapes(t *testing.T) {
	_, a := Error(llm.FormatAnthropicBatch, 403, "c", "m", "")
	_, b := Error(llm.FormatAnthropic, 403, "c", "m", "")
	_, g := Error(llm.FormatGeminiBatch, 403, "c", "m", "")
	_, g2 := Error(llm.FormatGemini, 403, "c", "m", "")
	if string(a) != string(b) || string(g) != string(g2) {
		t.Errorf("family shapes differ: %s / %s, %s / %s", a, b, g, g2)
	}
}
