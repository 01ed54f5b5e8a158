package filter

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// EventFunc decides what the client receives in place of one server-sent event: append it to out and
// return out. Append ev.Raw to keep the event byte-exact, sse.Encode(changed) to rewrite it, nothing
// to drop it, and further encoded events to insert them. ev == nil marks the end of the stream: append
// whatever must come before the stream ends (or nothing).
type EventFunc func(ev *sse.Event, out []byte) []byte

// SSEStream rewrites a streamed (text/event-stream, or NDJSON with the NDJSON field) response body chunk by chunk: each chunk is fed to
// an sse.Decoder, each complete event goes through the filter's EventFunc, and the bytes it returns
// replace the chunk. An event split across chunks is held back until it is complete, so the client
// may get it one chunk later; at the end of the stream the held-back bytes are flushed as a final
// event. A chunk whose events all come back unchanged is left in place without a host call.
//
//	func (h *httpContext) OnHttpResponseBody(bodySize int, endOfStream bool) types.Action {
//		if err := h.stream.OnBody(bodySize, endOfStream, h.onEvent); err != nil {
//			h.logError(err) // the stream already applied FailOpen / ErrorTail
//		}
//		return types.ActionContinue
//	}
//
//	func (h *httpContext) onEvent(ev *sse.Event, out []byte) []byte {
//		if ev == nil {
//			return out
//		}
//		if h.mustBlock(ev) {
//			out = append(out, reply.StreamError(h.format, "output_blocked", "blocked by policy", h.id)...)
//			h.stream.Stop() // drop the rest of the upstream stream
//			return out
//		}
//		return append(out, ev.Raw...)
//	}
//
// The upstream must send the stream uncompressed (see AskIdentityEncoding): a gzip stream cannot be
// decoded chunk by chunk here.
type SSEStream struct {
	// MaxPending bounds one incomplete event (0: sse.DefaultMaxPending, 1 MiB).
	MaxPending int
	// FailOpen chooses what happens when an event exceeds MaxPending: true forwards the rest of the
	// stream unparsed; false ends it with ErrorTail(err) and drops the rest. Set it from
	// config.Common.PassOnError, so that monitor mode never cuts a stream.
	FailOpen bool
	// ErrorTail returns the bytes that end a failed stream when FailOpen is false (typically
	// reply.StreamError(...)); nil ends it without a final event.
	ErrorTail func(err error) []byte
	// NDJSON switches the framing to newline-delimited JSON (Ollama's native streams): each line is
	// one event with Data = the line without its line end, Raw = the line with it, HasData = true.
	// Rewrite events with Encode, which frames them to match.
	NDJSON bool

	dec  sse.Decoder
	nd   lineDecoder
	mode uint8
	out  []byte
}

// Encode frames a changed event for this stream: sse.Encode for SSE, Data + "\n" for NDJSON.
func (s *SSEStream) Encode(ev sse.Event) []byte {
	if s.NDJSON {
		b := make([]byte, 0, len(ev.Data)+1)
		b = append(b, ev.Data...)
		return append(b, '\n')
	}
	return sse.Encode(ev)
}

const (
	sseParsing = iota
	ssePassthrough
	sseDropping
)

// Stop drops the rest of the stream: the remaining events of the current chunk and every later chunk.
// Call it from the EventFunc after appending the final bytes the client should get.
func (s *SSEStream) Stop() { s.mode = sseDropping }

// Passthrough forwards the rest of the stream unparsed, starting with the remaining events of the
// current chunk. Call it when nothing more needs checking.
func (s *SSEStream) Passthrough() {
	if s.mode == sseParsing {
		s.mode = ssePassthrough
	}
}

// Stopped reports whether Stop was called (or the stream failed closed).
func (s *SSEStream) Stopped() bool { return s.mode == sseDropping }

// OnBody is called from OnHttpResponseBody with its arguments; the callback then returns
// types.ActionContinue. The returned error is for logging and metrics only: FailOpen and ErrorTail
// have already been applied.
func (s *SSEStream) OnBody(bodySize int, endOfStream bool, fn EventFunc) error {
	switch s.mode {
	case ssePassthrough:
		return nil
	case sseDropping:
		// empty the chunk without reading it: a read would copy bytes into the VM only to drop them
		if bodySize > 0 {
			if err := ReplaceResponseBody(nil); err != nil {
				return fmt.Errorf("drop response chunk: %w", err)
			}
		}
		return nil
	}
	var chunk []byte
	if bodySize > 0 {
		var err error
		chunk, err = GetResponseBody(0, bodySize)
		if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
			return fmt.Errorf("read response chunk: %w", err)
		}
	}
	out, perr := s.Process(chunk, endOfStream, fn)
	if !bytes.Equal(out, chunk) {
		if err := ReplaceResponseBody(out); err != nil {
			return fmt.Errorf("replace response chunk: %w", err)
		}
	}
	return perr
}

// Process is the host-free core of OnBody: it returns the bytes that replace chunk. The result is valid
// until the next call. The error reports an event over MaxPending (after FailOpen/ErrorTail were
// applied).
func (s *SSEStream) Process(chunk []byte, endOfStream bool, fn EventFunc) ([]byte, error) {
	switch s.mode {
	case ssePassthrough:
		return chunk, nil
	case sseDropping:
		return s.out[:0], nil
	}
	if s.MaxPending != 0 {
		s.dec.MaxPending = s.MaxPending
		s.nd.max = s.MaxPending
	}
	out := s.out[:0]
	var evs []sse.Event
	if s.NDJSON {
		evs = s.nd.feed(chunk)
	} else {
		evs = s.dec.Feed(chunk)
	}
	var err error
	for i := range evs {
		if s.mode != sseParsing {
			if s.mode == ssePassthrough {
				out = append(out, evs[i].Raw...)
			}
			continue
		}
		out = fn(&evs[i], out)
	}
	derr := s.dec.Err()
	if s.NDJSON {
		derr = s.nd.err
	}
	if derr != nil && s.mode == sseParsing {
		err = fmt.Errorf("sse stream: %w", derr)
		if s.FailOpen {
			s.mode = ssePassthrough
		} else {
			if s.ErrorTail != nil {
				out = append(out, s.ErrorTail(derr)...)
			}
			s.mode = sseDropping
		}
	}
	switch s.mode {
	case ssePassthrough:
		if s.NDJSON {
			out = append(out, s.nd.buf...)
		} else {
			out = append(out, s.dec.Pending()...)
		}
		s.dec.Reset()
		s.nd.reset()
	case sseDropping:
		s.dec.Reset()
		s.nd.reset()
	}
	if endOfStream && s.mode == sseParsing {
		var ev sse.Event
		var ok bool
		if s.NDJSON {
			ev, ok = s.nd.flush()
		} else {
			ev, ok = s.dec.Flush()
		}
		if ok {
			out = fn(&ev, out)
		}
		if s.mode == sseParsing {
			out = fn(nil, out)
		}
	}
	s.out = out
	return out, err
}

// lineDecoder frames newline-delimited JSON: complete lines become events; a partial line is held back
// (bounded by max, default sse.DefaultMaxPending). Empty lines are forwarded as events with no data.
// Like sse.Decoder, the events of one feed share one copy of their bytes (every Raw) and one string
// (every Data), and do not alias the input or the decoder; each byte is searched for a line end once.
type lineDecoder struct {
	buf     []byte
	max     int
	err     error
	ends    []int // scratch: offsets just past each complete line in buf
	scanned int   // bytes searched for line ends (tests check that each is searched once)
}

func (d *lineDecoder) feed(p []byte) []sse.Event {
	if d.err != nil {
		return nil
	}
	// the held-back partial line has no line end: search only the new bytes
	from := len(d.buf)
	d.buf = append(d.buf, p...)
	d.scanned += len(p)
	ends := d.ends[:0]
	for i := from; ; {
		j := bytes.IndexByte(d.buf[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		ends = append(ends, i)
	}
	d.ends = ends
	var evs []sse.Event
	if len(ends) > 0 {
		n := ends[len(ends)-1]
		raw := make([]byte, n)
		copy(raw, d.buf[:n])
		str := string(raw)
		evs = make([]sse.Event, len(ends))
		s := 0
		for k, e := range ends {
			evs[k] = lineEvent(raw[s:e:e], str[s:e])
			s = e
		}
		m := copy(d.buf, d.buf[n:])
		d.buf = d.buf[:m]
		if m == 0 && cap(d.buf) > 64<<10 {
			d.buf = nil // do not keep a huge buffer after one huge line
		}
	}
	max := d.max
	if max == 0 {
		max = sse.DefaultMaxPending
	}
	if len(d.buf) > max {
		d.err = fmt.Errorf("%w: %d bytes held back, limit %d", sse.ErrTooLarge, len(d.buf), max)
	}
	return evs
}

// lineEvent is the event for one line: raw with its line end, line the same bytes as a string.
func lineEvent(raw []byte, line string) sse.Event {
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	ev := sse.Event{Raw: raw}
	if strings.TrimSpace(line) != "" {
		ev.Data = line
		ev.HasData = true
	}
	return ev
}

func (d *lineDecoder) flush() (sse.Event, bool) {
	if d.err != nil || len(d.buf) == 0 {
		d.reset()
		return sse.Event{}, false
	}
	raw := make([]byte, len(d.buf))
	copy(raw, d.buf)
	d.reset()
	return lineEvent(raw, string(raw)), true
}

func (d *lineDecoder) reset() { d.buf = d.buf[:0]; d.err = nil }
