// Package reply builds the error responses a wasmguard filter sends instead of (or in the middle of) an
// LLM provider's answer, shaped like that provider's own errors so its SDK clients raise their usual
// exception with a readable message.
//
//	headers, body := reply.Error(llm.FormatOpenAIChat, 403, "prompt_injection_detected",
//		"the request was blocked by the gateway's prompt-injection policy", requestID)
//	proxywasm.SendHttpResponse(403, headers, body, -1)
//
// Shapes (M is the message; the reason code and request id are always present somewhere a client or an
// operator can read them):
//
//	OpenAI (chat, responses, unknown): {"error":{"message":M,"type":T,"param":null,"code":"<reason>"}}
//	                                    M ends with " (request id: <id>)"; T from the status:
//	                                    429 rate_limit_error, >=500 server_error, else invalid_request_error
//	Anthropic: {"type":"error","error":{"type":T,"message":M},"request_id":"<id>"} (request_id only when known)
//	           M ends with " (reason: <reason>)"; T is Anthropic's type for the status
//	           (400 invalid_request_error, 401 authentication_error, 403 permission_error,
//	           404 not_found_error, 413 request_too_large, 429 rate_limit_error, 529 overloaded_error,
//	           other 5xx api_error)
//	Gemini: {"error":{"code":<status>,"message":M,"status":S,"details":[{"@type":
//	        "type.googleapis.com/google.rpc.ErrorInfo","reason":"<reason>","domain":"wasmguard",
//	        "metadata":{"request_id":"<id>"}}]}} (metadata only when the id is known)
//	        S is the google.rpc code name for the status (400 INVALID_ARGUMENT, 403 PERMISSION_DENIED,
//	        429 RESOURCE_EXHAUSTED, ...)
//	Ollama (native /api): {"error":"M (reason: <reason>; request id: <id>)"} (Ollama's errors are one string)
//
// Every reply carries the headers content-type, x-wasmguard-reason: <reason> and (when known)
// x-request-id: <id>; OpenAI's SDKs expose x-request-id on the raised error.
//
// Messages are fixed policy text written by the filter: never put prompt text or PII in them.
package reply

import (
	"strconv"
	"unicode/utf8"

	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Header names set on every reply.
const (
	HeaderReason    = "x-wasmguard-reason"
	HeaderRequestID = "x-request-id"
)

// Error returns the headers and JSON body of a local reply with the given HTTP status in the error
// shape of format f (OpenAI's shape for an unknown format). code is the stable reason code.
func Error(f llm.Format, status int, code, message, requestID string) (headers [][2]string, body []byte) {
	headers = make([][2]string, 0, 3)
	headers = append(headers, [2]string{"content-type", "application/json"}, [2]string{HeaderReason, code})
	if requestID != "" {
		headers = append(headers, [2]string{HeaderRequestID, requestID})
	}
	return headers, errorBody(f, status, code, message, requestID)
}

func errorBody(f llm.Format, status int, code, message, requestID string) []byte {
	b := make([]byte, 0, 192+len(message)+len(code)+len(requestID))
	switch f.Family() { // batches and Assistants answer in their family's error shape
	case llm.FormatAnthropic:
		b = append(b, `{"type":"error","error":`...)
		b = appendAnthropicError(b, status, withSuffix(message, "reason", code))
		if requestID != "" {
			b = append(b, `,"request_id":`...)
			b = appendString(b, requestID)
		}
		b = append(b, '}')
	case llm.FormatGemini:
		b = append(b, `{"error":`...)
		b = appendGeminiError(b, status, code, message, requestID)
		b = append(b, '}')
	case llm.FormatOllama:
		b = append(b, `{"error":`...)
		b = appendString(b, detailMessage(code, message, requestID))
		b = append(b, '}')
	default:
		b = append(b, `{"error":`...)
		b = appendOpenAIError(b, status, code, message, requestID)
		b = append(b, '}')
	}
	return b
}

func appendOpenAIError(b []byte, status int, code, message, requestID string) []byte {
	b = append(b, `{"message":`...)
	b = appendString(b, withSuffix(message, "request id", requestID))
	b = append(b, `,"type":`...)
	b = appendString(b, openAIType(status))
	b = append(b, `,"param":null,"code":`...)
	b = appendString(b, code)
	return append(b, '}')
}

func appendAnthropicError(b []byte, status int, message string) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, anthropicType(status))
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	return append(b, '}')
}

func appendGeminiError(b []byte, status int, code, message, requestID string) []byte {
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `,"status":`...)
	b = appendString(b, googleStatus(status))
	b = append(b, `,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":`...)
	b = appendString(b, code)
	b = append(b, `,"domain":"wasmguard"`...)
	if requestID != "" {
		b = append(b, `,"metadata":{"request_id":`...)
		b = appendString(b, requestID)
		b = append(b, '}')
	}
	return append(b, `}]}`...)
}

// StreamError returns the bytes that end an SSE response that has already started: the provider's
// error event, then its stream terminator where it has one. Append them to the last body chunk (or
// send them as the last chunk) after the events already forwarded:
//
//	OpenAI chat (and unknown): data: {"error":{...OpenAI error...}}\n\n data: [DONE]\n\n
//	OpenAI responses:          event: error\ndata: {"type":"error","code":"<reason>","message":M,"param":null}\n\n
//	Anthropic:                 event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":M}}\n\n
//	                           (M ends with " (reason: <reason>; request id: <id>)")
//	Gemini:                    data: {"error":{...Gemini error...}}\n\n
//	Ollama (NDJSON stream):    {"error":"M (reason: ...)"}\n
//
// The error is typed as a 400-class policy error; use StreamErrorStatus to pick another status.
func StreamError(f llm.Format, code, message, requestID string) []byte {
	return StreamErrorStatus(f, 400, code, message, requestID)
}

// StreamErrorStatus is StreamError with the status that selects the error type (429, 500 ...).
func StreamErrorStatus(f llm.Format, status int, code, message, requestID string) []byte {
	b := make([]byte, 0, 224+len(message)+len(code)+len(requestID))
	switch f.Family() {
	case llm.FormatOpenAIResponses:
		b = append(b, "event: error\ndata: {\"type\":\"error\",\"code\":"...)
		b = appendString(b, code)
		b = append(b, `,"message":`...)
		b = appendString(b, withSuffix(message, "request id", requestID))
		b = append(b, `,"param":null}`...)
		b = append(b, "\n\n"...)
	case llm.FormatAnthropic:
		b = append(b, "event: error\ndata: {\"type\":\"error\",\"error\":"...)
		b = appendAnthropicError(b, status, detailMessage(code, message, requestID))
		b = append(b, "}\n\n"...)
	case llm.FormatGemini:
		b = append(b, `data: {"error":`...)
		b = appendGeminiError(b, status, code, message, requestID)
		b = append(b, "}\n\n"...)
	case llm.FormatOllama:
		b = append(b, `{"error":`...)
		b = appendString(b, detailMessage(code, message, requestID))
		b = append(b, "}\n"...)
	default:
		b = append(b, `data: {"error":`...)
		b = appendOpenAIError(b, status, code, message, requestID)
		b = append(b, "}\n\ndata: [DONE]\n\n"...)
	}
	return b
}

func detailMessage(code, message, requestID string) string {
	m := message + " (reason: " + code
	if requestID != "" {
		m += "; request id: " + requestID
	}
	return m + ")"
}

func withSuffix(message, label, value string) string {
	if value == "" {
		return message
	}
	return message + " (" + label + ": " + value + ")"
}

func openAIType(status int) string {
	switch {
	case status == 429:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func anthropicType(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

func googleStatus(status int) string {
	switch status {
	case 400, 413, 422:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (control characters, quotes, backslashes, U+2028/2029 and
// invalid UTF-8 escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
