package llm

import "fmt"

// ParseResponse parses a non-streaming response body of format f (FormatUnknown: guessed from the shape). The
// segments are the assistant's text (provenance assistant) and tool-call arguments (tool_call; string leaves for
// object arguments), with Message set to the choice/candidate index and Loc into body. A provider error object
// ({"error": {...}} or Anthropic's {"type":"error"}) gives a Response with Error set and no error.
//
// A Gemini streamGenerateContent answer without alt=sse (a JSON array of chunks) is accepted too: segments of all
// chunks, the last finish reason and usage.
func ParseResponse(f Format, body []byte) (*Response, error) {
	if err := validate(body); err != nil {
		return nil, fmt.Errorf("parse response: %w", err)
	}
	r := root(body)
	if f == FormatUnknown {
		f = responseFormatFromBody(body, r)
		if f == FormatUnknown {
			return nil, fmt.Errorf("parse response: %w", ErrUnknownFormat)
		}
	}
	resp := &Response{Format: f}
	s := &segs{b: body}
	var err error
	switch {
	case f == FormatGemini && r.k == kArray:
		it := r.iter(body)
		for {
			_, c, ok := it.next()
			if !ok {
				break
			}
			if err = geminiResponse(s, c, resp); err != nil {
				break
			}
		}
	case r.k != kObject:
		return nil, fmt.Errorf("parse response: %w: body is a JSON %s, not an object", ErrInvalidJSON, r.k)
	case f == FormatOpenAIChat:
		err = chatResponse(s, r, resp)
	case f == FormatOpenAIResponses:
		err = responsesResponse(s, r, resp)
	case f == FormatAnthropic:
		err = anthropicResponse(s, r, resp)
	case f == FormatGemini:
		err = geminiResponse(s, r, resp)
	case f == FormatOllama:
		err = ollamaResponse(s, r, resp)
	case f == FormatOpenAIAssistants:
		err = assistantsResponse(s, r, resp)
	case f == FormatAnthropicBatch, f == FormatGeminiBatch:
		// a batch object or long-running operation: ids and counts, no model output (results are fetched later)
	default:
		return nil, fmt.Errorf("parse response: %w: %q", ErrUnknownFormat, string(f))
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s response: %w", f, inputErr(err))
	}
	resp.Segments = s.list
	return resp, nil
}

func responseFormatFromBody(b []byte, r val) Format {
	if r.k == kArray {
		return FormatGemini
	}
	switch {
	case has(b, r, "choices"):
		return FormatOpenAIChat
	case has(b, r, "candidates"), has(b, r, "usageMetadata"):
		return FormatGemini
	case has(b, r, "output"), getStr(b, r, "object") == "response":
		return FormatOpenAIResponses
	case has(b, r, "content") && has(b, r, "stop_reason"), getStr(b, r, "type") == "message":
		return FormatAnthropic
	case has(b, r, "message") && has(b, r, "done"):
		return FormatOllama
	}
	return FormatUnknown
}

func has(b []byte, v val, key string) bool { _, ok := get(b, v, key); return ok }

// errorMessage returns the message of an error member ({"error":{"message":...}} or {"error":"..."}).
func errorMessage(b []byte, r val) (string, bool) {
	e, _ := get(b, r, "error")
	return errorText(b, e)
}

// errorText returns the message of an error value (an object with message/type, or a string).
func errorText(b []byte, e val) (string, bool) {
	if !e.present() || e.k == kNull {
		return "", false
	}
	if e.k == kString {
		return unquote(b, e), true
	}
	msg := getStr(b, e, "message")
	if msg == "" {
		msg = getStr(b, e, "type")
	}
	if msg == "" {
		msg = "error"
	}
	return msg, true
}

// ---- usage ----

// openAIUsage reads an OpenAI usage object (chat completions and Responses name the same fields differently):
// total_tokens, the input and output counts, and cached_tokens and reasoning_tokens inside their details objects.
func openAIUsage(b []byte, u val, input, output, inputDetails, outputDetails string) Usage {
	var out Usage
	if u.k != kObject {
		return out
	}
	out.Present = true
	var f [5]val
	fields(b, u, f[:], input, output, "total_tokens", inputDetails, outputDetails)
	out.Input, _ = intValue(b, f[0])
	out.Output, _ = intValue(b, f[1])
	out.Total, _ = intValue(b, f[2])
	if f[3].k == kObject {
		out.Cached, _ = getInt(b, f[3], "cached_tokens")
	}
	if f[4].k == kObject {
		out.Reasoning, _ = getInt(b, f[4], "reasoning_tokens")
	}
	if out.Total == 0 {
		out.Total = out.Input + out.Output
	}
	return out
}
