package llm

import (
	"bytes"
	"fmt"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// ReadStream decodes a whole streamed response body of format f and returns the deltas of all its events, in order,
// as a filter would see them event by event. It is meant for tests of filters and tools that hold a complete
// transcript; a filter in a gateway feeds an sse.Decoder and a StreamParser chunk by chunk instead.
//
// SSE bodies are split with sse.Decoder (an unterminated last event is flushed and parsed as well); FormatOllama
// bodies are NDJSON, one event per non-blank line. The Locs of the deltas point into their own event's Data, not
// into body. The first event that does not parse stops the read: its error is returned (wrapping ErrInvalidJSON or
// ErrUnknownFormat, with the event's index) along with the deltas before it. An SSE event over the decoder's pending
// limit gives an error wrapping sse.ErrTooLarge.
func ReadStream(f Format, body []byte) ([]Delta, error) {
	p := NewStreamParser(f)
	var out []Delta
	n := 0
	parse := func(ev sse.Event) error {
		ds, err := p.Parse(ev)
		if err != nil {
			return fmt.Errorf("read stream: event %d: %w", n, err)
		}
		n++
		out = append(out, ds...)
		return nil
	}
	if f == FormatOllama {
		for len(body) > 0 {
			line := body
			next := len(body)
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				line, next = body[:i], i+1
			}
			body = body[next:]
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if err := parse(sse.Event{Data: string(line), HasData: true, Raw: line}); err != nil {
				return out, err
			}
		}
		return out, nil
	}
	var d sse.Decoder
	evs := d.Feed(body)
	if err := d.Err(); err != nil {
		return out, fmt.Errorf("read stream: %w", err)
	}
	if ev, ok := d.Flush(); ok {
		evs = append(evs, ev)
	}
	for _, ev := range evs {
		if err := parse(ev); err != nil {
			return out, err
		}
	}
	return out, nil
}
