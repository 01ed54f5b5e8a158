package body

import "strings"

// mediaType returns the lower-cased media type of a Content-Type value, without parameters.
func mediaType(contentType string) string {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	return strings.ToLower(strings.TrimSpace(contentType))
}

// IsJSON reports whether contentType is JSON: application/json, text/json or any structured-syntax
// "+json" type (application/problem+json, application/vnd.api+json). Parameters such as charset are
// ignored. Newline-delimited JSON is not JSON here; see IsNDJSON.
func IsJSON(contentType string) bool {
	mt := mediaType(contentType)
	if mt == "application/json" || mt == "text/json" {
		return true
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && strings.HasSuffix(mt, "+json")
}

// IsSSE reports whether contentType is text/event-stream (parameters ignored).
func IsSSE(contentType string) bool {
	return mediaType(contentType) == "text/event-stream"
}

// IsNDJSON reports whether contentType is newline-delimited JSON (application/x-ndjson,
// application/jsonl, application/jsonlines), which Ollama streams use.
func IsNDJSON(contentType string) bool {
	switch mediaType(contentType) {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines":
		return true
	}
	return false
}

// FixHeaders returns headers as they must be after the body was replaced: content-length removed (the
// host recomputes or chunks it) and content-encoding set to contentEncoding, or removed when it is
// empty or "identity". Names are compared case-insensitively; the input is not modified. sdk/filter has
// the host-call equivalent for live requests.
func FixHeaders(headers [][2]string, contentEncoding string) [][2]string {
	out := make([][2]string, 0, len(headers)+1)
	for _, h := range headers {
		if strings.EqualFold(h[0], "content-length") || strings.EqualFold(h[0], "content-encoding") {
			continue
		}
		out = append(out, h)
	}
	if ce := strings.TrimSpace(contentEncoding); ce != "" && !strings.EqualFold(ce, "identity") {
		out = append(out, [2]string{"content-encoding", ce})
	}
	return out
}

// AcceptEncoding filters a client's Accept-Encoding value down to the codings Encode can produce
// (gzip, deflate, zstd, identity), keeping the client's order and q-values; "" when none is left (the
// upstream then answers uncompressed). A filter that may rewrite responses sets the request's
// accept-encoding to this value in OnHttpRequestHeaders, so it never receives a body it could decode
// but not re-encode (br).
//
//	body.AcceptEncoding("br, gzip;q=0.8, zstd") // "gzip;q=0.8, zstd"
func AcceptEncoding(clientValue string) string {
	var b strings.Builder
	for _, part := range strings.Split(clientValue, ",") {
		p := strings.TrimSpace(part)
		name := p
		if i := strings.IndexByte(p, ';'); i >= 0 {
			name = strings.TrimSpace(p[:i])
		}
		switch strings.ToLower(name) {
		case "gzip", "x-gzip", "deflate", "zstd", "identity":
		default:
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p)
	}
	return b.String()
}
