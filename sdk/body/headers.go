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
