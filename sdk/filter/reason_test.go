package filter

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/sse"
)

func TestReasonFor(t *testing.T) {
	_, corrupt := body.Decode("gzip", []byte("not gzip"), 100)
	_, bomb := body.Decode("", make([]byte, 200), 100)
	_, unsupported := body.Decode("compress", []byte("x"), 100)
	var s SSEStream
	s.MaxPending = 4
	_, streamErr := s.Process([]byte("data: too long"), false, func(ev *sse.Event, out []byte) []byte { return out })
	tests := []struct {
		err      error
		response bool
		want     string
	}{
		{nil, false, ""},
		{fmt.Errorf("request body of 12 bytes: %w (10)", ErrBodyTooLarge), false, "request_body_too_large"},
		{bomb, true, "response_body_too_large"},
		{corrupt, false, "body_undecodable"},
		{unsupported, false, "unsupported_content_encoding"},
		{fmt.Errorf("read body: %w", ErrBodyUnreadable), false, "body_unreadable"},
		{streamErr, true, "stream_event_too_large"},
		{errors.New("bad argument"), false, "host_error"},
	}
	for _, tc := range tests {
		if got := ReasonFor(tc.err, tc.response); got != tc.want {
			t.Errorf("ReasonFor(%v, %v) = %q, want %q", tc.err, tc.response, got, tc.want)
		}
	}
}
