// Package body decodes and re-encodes HTTP message bodies by Content-Encoding, with the decoded size
// bounded while decoding (a 10 KiB gzip "bomb" must not become 10 GiB of wasm memory), and classifies
// content types.
//
// A filter that reads a request body:
//
//	plain, err := body.Decode(contentEncoding, raw, cfg.MaxBodyBytes)
//	switch {
//	case errors.Is(err, body.ErrTooLarge):  // on_error path, reason "body_too_large"
//	case errors.Is(err, body.ErrUnsupported): // on_error path, reason "unsupported_content_encoding"
//	case err != nil:                          // on_error path, reason "body_undecodable"
//	}
//	... rewrite plain ...
//	out, err := body.Encode(contentEncoding, rewritten) // same encoding as the client used
//
// Supported codings: identity (or empty), gzip (x-gzip), deflate (zlib-wrapped as RFC 9110 says, and
// raw deflate as some clients send it), br (decode only), zstd. A comma-separated list ("gzip, zstd")
// is decoded in reverse order and encoded in order, as the header describes.
//
// Brotli is decode-only: its encoder would add megabytes to every filter. A filter that may rewrite a
// response asks the upstream only for codings it can re-encode (AcceptEncoding) or for none
// (filter.AskIdentityEncoding); a br-encoded request body it must rewrite goes to its on_error path
// (Encode returns ErrUnsupported).
//
// # Notes
//
//   - No goroutines: zstd is decoded with klauspost's one-shot Decoder.DecodeAll and encoded with
//     Encoder.EncodeAll, both with a nil reader/writer and concurrency 1. Neither the streaming Reader nor
//     the streaming Writer is referenced, so no `go` statement is reachable and TinyGo's
//     -scheduler=none compiles the package (it refuses any goroutine start left after optimisation).
//   - Every call builds a fresh decompressor; compressed LLM bodies are rare enough that caching
//     state across requests is not worth the memory it would pin.
//   - Encode favours speed and low memory (gzip and deflate use klauspost's stateless compressor, ~1 KiB
//     of allocations instead of ~800 KiB for level 1; zstd fastest): compute inside wasm is 3-9x slower
//     than native, and every allocation is GC work.
//   - br is decoded by github.com/dsnet/compress/brotli (decoder only; it imports no network or file
//     APIs, unlike github.com/andybalholm/brotli, whose net/http helper makes a module unloadable on
//     Envoy and Kong). That decoder reports corrupt input by panic and recover, and TinyGo cannot
//     recover on WebAssembly (a corrupt stream would trap the VM), so TinyGo builds do not decode br:
//     Decode returns ErrUnsupported for it (the filter's on_error path, reason
//     unsupported_content_encoding) and AcceptEncoding never offers it. See codec_br*.go.
package body

import (
	"bytes"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// ErrTooLarge is returned (wrapped) when the decoded body would exceed the limit.
var ErrTooLarge = errors.New("body: decoded body exceeds the size limit")

// ErrUnsupported is returned (wrapped) for a content coding this package does not know.
var ErrUnsupported = errors.New("body: unsupported content encoding")

// ErrCorrupt is returned (wrapped, together with the decompressor's own error) when encoded data is
// not valid for its coding: truncated, corrupt, or not compressed at all.
var ErrCorrupt = errors.New("body: corrupt encoded data")

// Codings splits a Content-Encoding value into lower-cased codings, dropping "identity" and empty
// entries. It reports ErrUnsupported for an unknown coding.
func Codings(contentEncoding string) ([]string, error) {
	if contentEncoding == "" {
		return nil, nil
	}
	var out []string
	for _, part := range strings.Split(contentEncoding, ",") {
		c := strings.ToLower(strings.TrimSpace(part))
		switch c {
		case "", "identity":
			continue
		case "x-gzip":
			c = "gzip"
		case "gzip", "deflate", "zstd":
		case "br":
			if !brotliSupported {
				return nil, fmt.Errorf("%w %q (not in TinyGo builds)", ErrUnsupported, c)
			}
		default:
			return nil, fmt.Errorf("%w %q", ErrUnsupported, c)
		}
		out = append(out, c)
	}
	return out, nil
}

// Supported reports whether Decode and Encode handle contentEncoding.
func Supported(contentEncoding string) bool {
	_, err := Codings(contentEncoding)
	return err == nil
}

// Decode returns data with every content coding in contentEncoding removed. The decoded size may not
// exceed limit bytes (limit <= 0 means no limit); past it Decode stops reading and returns ErrTooLarge.
// For identity the input itself is returned (not a copy).
func Decode(contentEncoding string, data []byte, limit int64) ([]byte, error) {
	codings, err := Codings(contentEncoding)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 1<<63 - 1
	}
	if len(codings) == 0 && int64(len(data)) > limit {
		return nil, fmt.Errorf("decode identity: %w", ErrTooLarge)
	}
	for i := len(codings) - 1; i >= 0; i-- {
		data, err = decodeOne(codings[i], data, limit)
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("decode %s: %w", codings[i], err)
		}
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w: %w", codings[i], ErrCorrupt, err)
		}
	}
	return data, nil
}

func decodeOne(coding string, data []byte, limit int64) ([]byte, error) {
	var r io.Reader
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	case "deflate":
		if isZlib(data) {
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, err
			}
			defer zr.Close()
			r = zr
		} else {
			fr := flate.NewReader(bytes.NewReader(data))
			defer fr.Close()
			r = fr
		}
	case "br":
		var err error
		if r, err = newBrotliReader(data); err != nil {
			return nil, err
		}
	case "zstd":
		return decodeZstd(data, limit)
	}
	return readLimited(r, limit, len(data))
}

// maxZstdWindow is the largest zstd window accepted: RFC 9659 limits the "zstd" HTTP content coding to
// 8 MiB windows.
const maxZstdWindow = 8 << 20

// decodeZstd decodes every frame of data in one call (Decoder.DecodeAll, synchronous: no goroutine is
// reachable from it). The decoder stops a frame once its output passes the limit (after at most one
// 128 KiB block) and refuses frames whose declared content size is larger.
//
// klauspost caps the accepted window at the decoded-size limit, so a small body compressed by a
// streaming encoder that declares, say, a 2 MiB window would be refused under a 1 MiB limit. The limit
// handed to the decoder is therefore raised to the first frame's declared window (at most 8 MiB); the
// output is checked against the caller's limit afterwards. DecodeAll writes the window into the output
// itself, so a large declared window costs no memory beyond the bounded output.
func decodeZstd(data []byte, limit int64) ([]byte, error) {
	decLimit := uint64(limit)
	var h zstd.Header
	if h.Decode(data) == nil && h.WindowSize > decLimit && h.WindowSize <= maxZstdWindow {
		decLimit = h.WindowSize
	}
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderMaxMemory(decLimit))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	guess := min(int64(len(data))*4, limit+1, 4<<20)
	out, err := d.DecodeAll(data, make([]byte, 0, max(guess, 512)))
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || (err == nil && int64(len(out)) > limit) {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// isZlib reports whether data starts with a valid zlib header (RFC 1950: CM 8, window <= 32 KiB,
// header checksum), which a raw deflate stream practically never does.
func isZlib(data []byte) bool {
	if len(data) < 2 {
		return false
	}
	cmf, flg := data[0], data[1]
	return cmf&0x0F == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

func readLimited(r io.Reader, limit int64, inLen int) ([]byte, error) {
	guess := int64(inLen) * 4
	if guess < 512 {
		guess = 512
	}
	if guess > limit+1 {
		guess = limit + 1
	}
	if guess > 4<<20 {
		guess = 4 << 20
	}
	buf := bytes.NewBuffer(make([]byte, 0, guess))
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}

// Encode applies the codings of contentEncoding to data (in header order). For identity it returns data
// itself.
func Encode(contentEncoding string, data []byte) ([]byte, error) {
	codings, err := Codings(contentEncoding)
	if err != nil {
		return nil, err
	}
	for _, c := range codings {
		data, err = encodeOne(c, data)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
	}
	return data, nil
}

func encodeOne(coding string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 64)
	var w io.WriteCloser
	var err error
	switch coding {
	case "gzip":
		w, err = gzip.NewWriterLevel(&buf, gzip.StatelessCompression)
	case "deflate":
		return encodeZlib(data)
	case "br":
		return nil, fmt.Errorf("%w %q: decode only (no brotli encoder in the filters)", ErrUnsupported, coding)
	case "zstd":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
		// No Close: it finishes a streaming Writer (which starts goroutines) and there is no stream here.
		return enc.EncodeAll(data, make([]byte, 0, len(data)/2+64)), nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeZlib writes an RFC 1950 stream (header 0x78 0x01, stateless deflate, Adler-32), the "deflate"
// content coding, without the large state of a zlib.Writer.
func encodeZlib(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 64)
	buf.Write([]byte{0x78, 0x01})
	w := flate.NewStatelessWriter(&buf)
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	sum := adler32.Checksum(data)
	buf.Write([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	return buf.Bytes(), nil
}
