package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/sse"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

func TestReasonFor(t *testing.T) {
	_, corrupt := body.Decode("gzip", []byte("not gzip"), 100)
	_, bomb := body.Decode("", make([]byte, 200), 100)
	_, unsupported := body.Decode("compress", []byte("x"), 100)
	d := sse.Decoder{MaxPending: 4}
	d.Feed([]byte("data: too long"))
	streamErr := d.Err()
	parseReq := func(b string) error {
		_, err := llm.ParseRequest(llm.FormatOpenAIChat, []byte(b))
		if err == nil {
			t.Fatalf("ParseRequest(%q) accepted", b)
		}
		return err
	}
	parseResp := func(b string) error {
		_, err := llm.ParseResponse(llm.FormatOpenAIChat, []byte(b))
		if err == nil {
			t.Fatalf("ParseResponse(%q) accepted", b)
		}
		return err
	}
	_, unknownFormat := llm.ParseRequest(llm.FormatUnknown, []byte(`{"hello":"world"}`))
	_, notObject := llm.SetMaxTokens(llm.FormatOpenAIChat, []byte(`[1]`), 10)
	_, badEdit := llm.ApplyEditsStrict([]byte(`{"a":"b"}`), []llm.Edit{{Loc: llm.Loc{Start: 5, End: 100}, Text: "x"}})
	tests := []struct {
		name     string
		err      error
		response bool
		want     string
	}{
		{"nil", nil, false, ""},
		{"request over limit", fmt.Errorf("request body of 12 bytes: %w (10)", ErrBodyTooLarge), false, "request_body_too_large"},
		{"response over limit", fmt.Errorf("response body of 12 bytes or more: %w (10)", ErrBodyTooLarge), true, "response_body_too_large"},
		{"decoded over limit", bomb, true, "response_body_too_large"},
		{"corrupt gzip", corrupt, false, "body_undecodable"},
		{"unsupported coding", unsupported, false, "unsupported_content_encoding"},
		{"kong spill", fmt.Errorf("read body: %w", ErrBodyUnreadable), false, "body_unreadable"},
		{"stream event", streamErr, true, "stream_event_too_large"},
		{"malformed json", parseReq(`{"model":"gpt-4o","messages":[`), false, "request_body_unparseable"},
		{"invalid utf-8", parseReq("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xe9\"}]}"), false, "request_body_unparseable"},
		{"wrong-typed field", parseReq(`{"model":"gpt-4o","messages":"hi"}`), false, "request_body_unparseable"},
		{"wrong-typed response field", parseResp(`{"choices":"none"}`), true, "response_body_unparseable"},
		{"too deep", parseReq(`{"messages":` + strings.Repeat("[", llm.MaxDepth+1) + strings.Repeat("]", llm.MaxDepth+1) + `}`), false, "request_body_unparseable"},
		{"not an object", parseReq(`"hello"`), false, "request_body_unparseable"},
		{"unknown api", unknownFormat, false, "request_body_unparseable"},
		{"edit on a non-object", notObject, false, "request_body_unparseable"},
		{"malformed response", parseResp(`{"choices":[{"message":`), true, "response_body_unparseable"},
		{"invalid utf-8 response", parseResp("{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}"), true, "response_body_unparseable"},
		{"bad edit is a filter bug", badEdit, false, "host_error"},
		{"host error", errors.New("bad argument"), false, "host_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil && tc.want != "" {
				t.Fatal("no error to map")
			}
			if got := ReasonFor(tc.err, tc.response); got != tc.want {
				t.Errorf("ReasonFor(%v, %v) = %q, want %q", tc.err, tc.response, got, tc.want)
			}
		})
	}
}

// TestStatusFor: every shared reason code has the status its doc promises. Request-side failures are
// the client's (4xx) or the gateway's (500); a response that cannot be checked is the upstream's
// (502), never 4xx: the client did nothing wrong.
func TestStatusFor(t *testing.T) {
	for reason, want := range map[string]int{
		telemetry.ReasonRequestBodyTooLarge:     413,
		telemetry.ReasonBodyUnreadable:          413,
		telemetry.ReasonUnsupportedEncoding:     415,
		telemetry.ReasonBodyUndecodable:         400,
		telemetry.ReasonRequestBodyUnparseable:  400,
		telemetry.ReasonResponseBodyTooLarge:    502,
		telemetry.ReasonResponseBodyUnparseable: 502,
		telemetry.ReasonStreamEventTooLarge:     502,
		telemetry.ReasonHostError:               500,
		"prompt_injection_detected":             500,
	} {
		if got := StatusFor(reason); got != want {
			t.Errorf("StatusFor(%q) = %d, want %d", reason, got, want)
		}
	}
}

// TestFailMessage: every request-side reason FailRequest can reply with has its own message.
func TestFailMessage(t *testing.T) {
	generic := failMessage(telemetry.ReasonHostError)
	for _, reason := range []string{telemetry.ReasonRequestBodyTooLarge, telemetry.ReasonUnsupportedEncoding,
		telemetry.ReasonBodyUndecodable, telemetry.ReasonBodyUnreadable, telemetry.ReasonRequestBodyUnparseable} {
		if failMessage(reason) == generic {
			t.Errorf("%s: generic message %q", reason, generic)
		}
	}
}
