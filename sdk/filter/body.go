package filter

import (
	"errors"
	"fmt"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// ErrBodyTooLarge is returned (wrapped) when a body grows past its limit. The filter maps it to its
// on_error policy (reason "body_too_large"); it must never let the body pass unchecked silently.
var ErrBodyTooLarge = errors.New("body exceeds max_body_bytes")

// ErrBodyUnreadable is returned (wrapped) when the host reports a body it cannot hand over (Kong
// spills request bodies above client_body_buffer_size, 8 KiB by default, to disk).
var ErrBodyUnreadable = errors.New("host cannot provide the body")

// ErrScanBudget is returned (wrapped) when a scan limit (segments, bytes, windows) is reached before the
// whole body was inspected: reason scan_budget_exceeded, an on_error decision, never a silent pass.
var ErrScanBudget = errors.New("scan budget exceeded")

// Step says where a body accumulator is.
type Step uint8

const (
	// StepMore: the body is incomplete. A request callback returns types.ActionPause, a response
	// callback types.ActionContinue.
	StepMore Step = iota
	// StepReady: the whole body was returned; inspect it now.
	StepReady
	// StepSkip: the body was handled before (read, failed, passed through or dropped); return
	// types.ActionContinue and do nothing else.
	StepSkip
)

// RequestBody accumulates a request body in the host's buffer: Collect returns StepMore (return
// types.ActionPause) until the end of the stream, then reads the whole body with one host call.
//
//	func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
//		raw, step, err := h.req.Collect(bodySize, endOfStream)
//		switch {
//		case err != nil:
//			return h.onError(err) // errors.Is(err, filter.ErrBodyTooLarge) ...
//		case step == filter.StepMore:
//			return types.ActionPause
//		case step == filter.StepSkip:
//			return types.ActionContinue
//		}
//		return h.inspect(raw)
//	}
//
// Envoy calls OnHttpRequestBody per chunk and, while the filter pauses, with the cumulative size; a
// body may end with trailers instead of end_of_stream, so the filter must also call
// CollectAtTrailers from OnHttpRequestTrailers (or the body would go upstream unchecked). Kong calls
// once with the whole body, and not at all for an empty one. Limit applies to the cumulative (still
// content-encoded) size; 0 means no limit.
type RequestBody struct {
	Limit   int64
	seen    int
	handled bool
}

// Collect is called from OnHttpRequestBody with its arguments. See RequestBody. After an error the
// body counts as handled (StepSkip).
func (b *RequestBody) Collect(bodySize int, endOfStream bool) ([]byte, Step, error) {
	return collectHost(&b.seen, &b.handled, b.Limit, bodySize, endOfStream, getRequestBody)
}

// CollectAtTrailers reads the body buffered so far when the request ends with trailers, from
// OnHttpRequestTrailers. It returns StepSkip when the body was already handled or there was none.
func (b *RequestBody) CollectAtTrailers() ([]byte, Step, error) {
	if b.handled || b.seen == 0 {
		b.handled = true
		return nil, StepSkip, nil
	}
	return collectHost(&b.seen, &b.handled, b.Limit, b.seen, true, getRequestBody)
}

func collectHost(seen *int, handled *bool, limit int64, bodySize int, eos bool, get func(start, max int) ([]byte, error)) ([]byte, Step, error) {
	if *handled {
		return nil, StepSkip, nil
	}
	if bodySize > *seen {
		*seen = bodySize
	}
	if limit > 0 && int64(*seen) > limit {
		*handled = true
		return nil, StepSkip, fmt.Errorf("request body of %d bytes: %w (%d)", *seen, ErrBodyTooLarge, limit)
	}
	if !eos {
		return nil, StepMore, nil
	}
	*handled = true
	if *seen == 0 {
		return nil, StepReady, nil
	}
	// Ask for one byte more than the limit: the host clamps to what it has, and a host whose
	// reported sizes are off cannot slip a longer body past the check.
	max := *seen
	if limit > 0 {
		max = int(limit) + 1
	}
	body, err := get(0, max)
	if err != nil {
		if errors.Is(err, types.ErrorStatusNotFound) {
			return nil, StepSkip, fmt.Errorf("read body of %d bytes: %w", *seen, ErrBodyUnreadable)
		}
		return nil, StepSkip, fmt.Errorf("read body: %w", err)
	}
	if limit > 0 && int64(len(body)) > limit {
		return nil, StepSkip, fmt.Errorf("request body of %d bytes: %w (%d)", len(body), ErrBodyTooLarge, limit)
	}
	return body, StepReady, nil
}

// ResponseBody accumulates a non-streamed response body inside the filter: each chunk is copied and
// emptied, and at the end of the stream Collect writes the whole body back into the last chunk and
// returns it (StepReady). A filter that leaves the body as it is does nothing more; one that rewrites
// it calls ReplaceResponseBody. Every response callback returns types.ActionContinue.
//
//	func (h *httpContext) OnHttpResponseBody(bodySize int, endOfStream bool) types.Action {
//		raw, step, err := h.resp.Collect(bodySize, endOfStream)
//		if err != nil {
//			if !h.cfg.PassOnError() {          // on_error deny, and not monitor mode
//				h.resp.Drop()                   // swallow the rest of the upstream body
//				filter.ReplaceResponseBody(errorJSON)
//			}
//			return types.ActionContinue
//		}
//		if step == filter.StepReady {
//			h.inspect(raw)
//		}
//		return types.ActionContinue
//	}
//
// The filter buffers instead of returning Pause because the hosts disagree: Kong buffers only 16 KiB
// (4 × 4096) when asked and then ignores further Pauses, and Envoy resets a stream whose buffered
// response exceeds its buffer limit once headers went downstream. Remove content-length in
// OnHttpResponseHeaders if the body may change size (DropResponseContentLength).
//
// Limit bounds the bytes held (0: no limit). Past it Collect writes what it held back into the current
// chunk, lets the rest of the body through unchanged, and returns ErrBodyTooLarge (fail open by
// default); call Drop and replace the current chunk to fail closed instead, only when
// config.Common.PassOnError is false (monitor mode never drops a response).
type ResponseBody struct {
	Limit int64
	buf   []byte
	state uint8 // 0 collecting, 1 handled, 2 passthrough, 3 dropping
}

const (
	respCollecting = iota
	respHandled
	respPassthrough
	respDropping
)

// Collect is called from OnHttpResponseBody with its arguments. See ResponseBody.
func (b *ResponseBody) Collect(bodySize int, endOfStream bool) ([]byte, Step, error) {
	switch b.state {
	case respHandled, respPassthrough:
		return nil, StepSkip, nil
	case respDropping:
		if bodySize > 0 {
			_ = ReplaceResponseBody(nil)
		}
		return nil, StepSkip, nil
	}
	var chunk []byte
	if bodySize > 0 {
		var err error
		chunk, err = GetResponseBody(0, bodySize)
		if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
			b.passthrough()
			return nil, StepSkip, fmt.Errorf("read response body: %w", err)
		}
	}
	if b.Limit > 0 && int64(len(b.buf)+len(chunk)) > b.Limit {
		n := len(b.buf) + len(chunk)
		b.passthrough()
		return nil, StepSkip, fmt.Errorf("response body of %d bytes or more: %w (%d)", n, ErrBodyTooLarge, b.Limit)
	}
	if endOfStream && len(b.buf) == 0 {
		b.state = respHandled
		if x := cur; x != nil {
			x.keepChunk() // the stage may hold the body until the exchange ends
		}
		return chunk, StepReady, nil // the whole body is this chunk, already in place
	}
	b.buf = appendBody(b.buf, chunk)
	if endOfStream {
		b.state = respHandled
		body := b.buf
		b.buf = nil
		own(body)
		if err := ReplaceResponseBody(body); err != nil {
			return nil, StepSkip, fmt.Errorf("write back response body: %w", err)
		}
		return body, StepReady, nil
	}
	if len(chunk) > 0 {
		if err := ReplaceResponseBody(nil); err != nil {
			// the chunk stays in place; forward what was held before it and stop collecting
			held := b.buf[:len(b.buf)-len(chunk)]
			b.state = respPassthrough
			if len(held) > 0 {
				_ = prependResponseBody(held)
			}
			unused(b.buf)
			b.buf = nil
			return nil, StepSkip, fmt.Errorf("hold response chunk: %w", err)
		}
	}
	return nil, StepMore, nil
}

// passthrough writes the held bytes in front of the current chunk and lets everything else through.
func (b *ResponseBody) passthrough() {
	if len(b.buf) > 0 {
		_ = prependResponseBody(b.buf)
	}
	unused(b.buf)
	b.buf = nil
	b.state = respPassthrough
}

// Drop makes Collect empty every later chunk (fail closed after an error or a block decision).
// Replace the current chunk yourself (ReplaceResponseBody) with what the client should get.
func (b *ResponseBody) Drop() { unused(b.buf); b.buf = nil; b.state = respDropping }
