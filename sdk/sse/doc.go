// Package sse decodes and re-encodes server-sent event streams (the text/event-stream framing every LLM provider
// uses for streamed responses) incrementally, so a proxy-wasm filter can look at each event of a response body as
// it passes and forward every byte it did not change exactly as received.
//
// The decoder follows the WHATWG event-stream rules that providers rely on: "\n", "\r\n" and "\r" line ends (a
// "\r\n" split across two chunks is one line end), an optional single space after the colon, comment lines
// (starting with ":"), several "data:" lines joined with "\n", "event:" and "id:" fields, and a UTF-8 byte order
// mark at the start of the stream. Input split at any byte gives the same events (including Raw) as the same input
// in one piece, and the Raw bytes of the events plus Pending always reproduce the input.
//
// Unlike a browser, the decoder also returns blocks that have no data (comment-only keep-alives such as
// ": ping", or stray blank lines), because a proxy must forward them; check HasData before parsing Data.
//
// Memory is bounded: an event still incomplete after MaxPending bytes (default 1 MiB) stops the decoder with
// ErrTooLarge instead of growing without limit.
//
// Example (a response-body callback):
//
//	var dec sse.Decoder // one per stream
//	out := make([]byte, 0, len(chunk))
//	for _, ev := range dec.Feed(chunk) {
//		if changed, ok := rewrite(ev); ok {
//			out = append(out, sse.Encode(changed)...)
//		} else {
//			out = append(out, ev.Raw...) // byte-exact
//		}
//	}
//	if err := dec.Err(); err != nil { /* on_error path */ }
//	if endOfStream {
//		if ev, ok := dec.Flush(); ok { out = append(out, ev.Raw...) }
//	}
//
// # Notes
//
// Feed copies its input; returned events never alias the caller's chunk or the decoder. Per Feed call the events
// share one backing array for Raw and single-line Data (Data is a string over those bytes: do not modify Raw),
// so decoding costs a few allocations per chunk, not per byte or per line. Append and Next lend events out of the
// decoder's own buffer instead and allocate nothing per event: for a pass that reads each event before the next
// chunk (Event.Clone keeps one).
package sse
