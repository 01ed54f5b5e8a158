package main

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strings"
)

// TODO(sdk): use sdk/body once it no longer links net/http: github.com/andybalholm/brotli imports net/http (for
// its HTTP helper), which pulls a wasi_snapshot_preview1.path_filestat_get import that Envoy (cpp-host #427) and
// Kong do not provide, so a module importing sdk/body does not load. Until then outputguard decodes the codings
// LLM APIs actually use (gzip, deflate) with the standard library; br and zstd take the on_error path.

var (
	errTooLarge    = errors.New("body: decoded body exceeds the size limit")
	errUnsupported = errors.New("body: unsupported content encoding")
)

func normEncoding(ce string) string { return strings.ToLower(strings.TrimSpace(ce)) }

func encodingSupported(ce string) bool {
	switch normEncoding(ce) {
	case "", "identity", "gzip", "x-gzip", "deflate":
		return true
	}
	return false
}

func decodeBody(ce string, data []byte, limit int64) ([]byte, error) {
	var r io.ReadCloser
	var err error
	switch normEncoding(ce) {
	case "", "identity":
		if int64(len(data)) > limit {
			return nil, errTooLarge
		}
		return data, nil
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(data))
	case "deflate":
		// RFC 9110 deflate is zlib-wrapped; some servers send raw deflate
		if r, err = zlib.NewReader(bytes.NewReader(data)); err != nil {
			r, err = flate.NewReader(bytes.NewReader(data)), nil
		}
	default:
		return nil, errUnsupported
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooLarge
	}
	return out, nil
}

func encodeBody(ce string, data []byte) ([]byte, error) {
	var b bytes.Buffer
	switch normEncoding(ce) {
	case "", "identity":
		return data, nil
	case "gzip", "x-gzip":
		w := gzip.NewWriter(&b)
		w.Write(data)
		if err := w.Close(); err != nil {
			return nil, err
		}
	case "deflate":
		w := zlib.NewWriter(&b)
		w.Write(data)
		if err := w.Close(); err != nil {
			return nil, err
		}
	default:
		return nil, errUnsupported
	}
	return b.Bytes(), nil
}

func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

func isJSON(ct string) bool {
	mt := mediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func isSSE(ct string) bool { return mediaType(ct) == "text/event-stream" }
