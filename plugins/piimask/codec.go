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

// Local body codecs: identity, gzip and deflate only.
//
// TODO(sdk): use sdk/body once it no longer links github.com/andybalholm/brotli, which imports the WASI function
// path_filestat_get that Envoy's WASI (cpp-host #427) lacks: a module linking sdk/body does not load in Envoy
// (hostsim's envoy profile refuses it). Until then piimask asks upstreams for gzip at most (see
// acceptEncoding) and leaves bodies in other codings untouched.

var errTooLarge = errors.New("piimask: decoded body exceeds max_body_bytes")

// supportedEncoding reports whether piimask can decode and re-encode a Content-Encoding value.
func supportedEncoding(enc string) bool {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity", "gzip", "x-gzip", "deflate":
		return true
	}
	return false
}

func decodeBody(enc string, data []byte, limit int64) ([]byte, error) {
	var r io.Reader
	var err error
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity":
		return data, nil
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(data))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(data))
		if err != nil { // raw deflate, as some servers send it
			r, err = flate.NewReader(bytes.NewReader(data)), nil
		}
	default:
		return nil, errors.New("piimask: unsupported content encoding " + enc)
	}
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooLarge
	}
	return out, nil
}

func encodeBody(enc string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity":
		return data, nil
	case "gzip", "x-gzip":
		w, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	case "deflate":
		w, _ = zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	default:
		return nil, errors.New("piimask: unsupported content encoding " + enc)
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// acceptEncoding keeps only the codings piimask can undo from a request's Accept-Encoding ("" = remove it).
func acceptEncoding(v string) string {
	var keep []string
	for _, part := range strings.Split(v, ",") {
		name := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if name == "gzip" || name == "deflate" || name == "identity" {
			keep = append(keep, strings.TrimSpace(part))
		}
	}
	return strings.Join(keep, ", ")
}

func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

func isJSON(ct string) bool {
	m := mediaType(ct)
	return m == "application/json" || strings.HasSuffix(m, "+json")
}

func isSSE(ct string) bool { return mediaType(ct) == "text/event-stream" }
