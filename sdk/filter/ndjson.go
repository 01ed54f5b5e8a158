package filter

import (
	"strings"

	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/sse"
)

// EventDecoder frames a streamed response body into events: *sse.Decoder for text/event-stream,
// *NDJSONDecoder for newline-delimited JSON (Ollama's native streams). Filters that keep their own
// stream state (outputguard, piimask) pick one in OnHttpResponseHeaders with NewEventDecoder.
type EventDecoder interface {
	Feed(p []byte) []sse.Event
	Flush() (sse.Event, bool)
	Pending() []byte
	Err() error
	Reset()
}

// NewEventDecoder returns the decoder for a stream: NDJSON framing when ndjson is true, SSE otherwise;
// maxPending bounds one incomplete event (0: sse.DefaultMaxPending).
func NewEventDecoder(ndjson bool, maxPending int) EventDecoder {
	if ndjson {
		return &NDJSONDecoder{MaxPending: maxPending}
	}
	return &sse.Decoder{MaxPending: maxPending}
}

// NDJSONDecoder frames newline-delimited JSON with the same contract as sse.Decoder: each line is one
// event (Data the line without its line end, Raw with it, HasData unless the line is blank); a partial
// line is held back up to MaxPending bytes, past which Err reports sse.ErrTooLarge.
type NDJSONDecoder struct {
	MaxPending int
	d          lineDecoder
}

// Feed returns the events completed by p.
func (n *NDJSONDecoder) Feed(p []byte) []sse.Event { n.d.max = n.MaxPending; return n.d.feed(p) }

// Flush returns the held-back partial line as a final event at the end of the stream.
func (n *NDJSONDecoder) Flush() (sse.Event, bool) { return n.d.flush() }

// Pending is the held-back partial line.
func (n *NDJSONDecoder) Pending() []byte { return n.d.buf }

// Err reports a line over MaxPending.
func (n *NDJSONDecoder) Err() error { return n.d.err }

// Reset drops the held-back bytes and the error.
func (n *NDJSONDecoder) Reset() { n.d.reset() }

// RewriteStreamEvent is llm.RewriteEvent for either framing: an NDJSON event is re-framed as its edited
// line plus "\n" (llm.RewriteEvent would frame it as SSE).
func RewriteStreamEvent(ev sse.Event, edits []llm.Edit, ndjson bool) sse.Event {
	if !ndjson {
		return llm.RewriteEvent(ev, edits)
	}
	if len(edits) == 0 {
		return ev
	}
	data := llm.ApplyEdits([]byte(ev.Data), edits)
	if string(data) == ev.Data {
		return ev
	}
	raw := make([]byte, 0, len(data)+1)
	raw = append(append(raw, data...), '\n')
	return sse.Event{Data: string(data), HasData: true, Raw: raw}
}

// SniffJSON reports whether a body declared as something else (text/plain, octet-stream, no
// content type) is JSON as a client would parse it: its first non-blank byte (after a UTF-8 byte order mark)
// opens an object or array.
func SniffJSON(b []byte) bool {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		b = b[3:] // a UTF-8 byte order mark: browsers' response.json() and sdk/llm skip it
	}
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// MaybeJSON reports whether a response content type may hide JSON the client reads anyway: none,
// text/plain or application/octet-stream (a misconfigured or hostile upstream); such bodies are collected and
// sniffed (SniffJSON) instead of passed unread.
func MaybeJSON(contentType string) bool {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	switch strings.ToLower(strings.TrimSpace(contentType)) {
	case "", "text/plain", "application/octet-stream":
		return true
	}
	return false
}
