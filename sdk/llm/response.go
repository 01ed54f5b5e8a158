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

func chatUsage(b []byte, u val) Usage {
	return openAIUsage(b, u, "prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
}

func responsesUsage(b []byte, u val) Usage {
	return openAIUsage(b, u, "input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
}

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

// anthUsage holds Anthropic's raw usage fields; message_delta repeats or updates some of them.
type anthUsage struct {
	in, out, cacheRead, cacheWrite int64
	present                        bool
}

func (a *anthUsage) merge(b []byte, u val) {
	if u.k != kObject {
		return
	}
	a.present = true
	var f [4]val
	fields(b, u, f[:], "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
	if n, ok := intValue(b, f[0]); ok {
		a.in = n
	}
	if n, ok := intValue(b, f[1]); ok {
		a.out = n
	}
	if n, ok := intValue(b, f[2]); ok {
		a.cacheRead = n
	}
	if n, ok := intValue(b, f[3]); ok {
		a.cacheWrite = n
	}
}

func (a *anthUsage) usage() Usage {
	if !a.present {
		return Usage{}
	}
	in := a.in + a.cacheRead + a.cacheWrite
	return Usage{Input: in, Output: a.out, Cached: a.cacheRead, CacheWrite: a.cacheWrite, Total: in + a.out, Present: true}
}

func geminiUsage(b []byte, u val) Usage {
	var out Usage
	if u.k != kObject {
		return out
	}
	out.Present = true
	var f [6]val
	fields(b, u, f[:], "promptTokenCount", "toolUsePromptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
		"cachedContentTokenCount", "totalTokenCount")
	out.Input, _ = intValue(b, f[0])
	tool, _ := intValue(b, f[1])
	out.Input += tool
	cand, _ := intValue(b, f[2])
	out.Reasoning, _ = intValue(b, f[3])
	out.Output = cand + out.Reasoning
	out.Cached, _ = intValue(b, f[4])
	out.Total, _ = intValue(b, f[5])
	if out.Total == 0 {
		out.Total = out.Input + out.Output
	}
	return out
}

func ollamaUsage(b []byte, r val) Usage {
	in, ok1 := getInt(b, r, "prompt_eval_count")
	out, ok2 := getInt(b, r, "eval_count")
	if !ok1 && !ok2 {
		return Usage{}
	}
	return Usage{Input: in, Output: out, Total: in + out, Present: true}
}

// ---- per format ----

func chatResponse(s *segs, r val, resp *Response) error {
	b := s.b
	var f [4]val
	fields(b, r, f[:], "model", "error", "usage", "choices")
	resp.Model = str(b, f[0])
	if msg, ok := errorText(b, f[1]); ok {
		resp.Error = msg
	}
	if f[2].present() {
		resp.Usage = chatUsage(b, f[2])
	}
	choices := f[3]
	if !choices.present() || choices.k == kNull {
		return nil
	}
	if choices.k != kArray {
		return fmt.Errorf("choices: expected array, got %s", choices.k)
	}
	it := choices.iter(b)
	for i := 0; ; i++ {
		_, c, ok := it.next()
		if !ok {
			return nil
		}
		if c.k != kObject {
			return fmt.Errorf("choices[%d]: expected object, got %s", i, c.k)
		}
		var cf [4]val
		fields(b, c, cf[:], "index", "finish_reason", "text", "message")
		ci := choiceIndex(b, cf[0], i)
		if i == 0 {
			resp.FinishReason = str(b, cf[1])
		}
		if cf[2].k == kString { // legacy completions
			s.add(ci, -1, "assistant", ProvAssistant, cf[2], "", "")
		}
		if cf[3].k != kObject {
			continue
		}
		if err := chatResponseMessage(s, cf[3], ci); err != nil {
			return err
		}
	}
}

// choiceIndex returns the "index" member when it is a sane non-negative integer, else def.
func choiceIndex(b []byte, v val, def int) int {
	if n, ok := intValue(b, v); ok && n >= 0 && n < 1<<20 {
		return int(n)
	}
	return def
}

func chatResponseMessage(s *segs, m val, ci int) error {
	b := s.b
	role := getStr(b, m, "role")
	if role == "" {
		role = "assistant"
	}
	it := m.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return nil
		}
		switch keyCanon(b, k) {
		case "content":
			switch v.k {
			case kString:
				s.add(ci, -1, role, ProvAssistant, v, "", "")
			case kArray:
				pit := v.iter(b)
				for j := 0; ; j++ {
					_, part, ok := pit.next()
					if !ok {
						break
					}
					if err := chatPart(s, part, ci, j, role, ProvAssistant, ""); err != nil {
						return err
					}
				}
			}
		case "refusal":
			if v.k == kString {
				s.add(ci, -1, role, ProvAssistant, v, "", "")
			}
		case "tool_calls":
			tit := v.iter(b)
			for j := 0; ; j++ {
				_, tc, ok := tit.next()
				if !ok {
					break
				}
				fn, _ := get(b, tc, "function")
				if args, ok := get(b, fn, "arguments"); ok {
					s.leaves(args, ci, j, role, ProvToolCall, getStr(b, fn, "name"), "")
				}
			}
		case "function_call":
			if args, ok := get(b, v, "arguments"); ok {
				s.leaves(args, ci, -1, role, ProvToolCall, getStr(b, v, "name"), "")
			}
		}
	}
}

func responsesResponse(s *segs, r val, resp *Response) error {
	b := s.b
	resp.Model = getStr(b, r, "model")
	if msg, ok := errorMessage(b, r); ok {
		resp.Error = msg
	}
	resp.FinishReason = getStr(b, r, "status")
	if d, ok := get(b, r, "incomplete_details"); ok && d.k == kObject {
		if reason := getStr(b, d, "reason"); reason != "" {
			resp.FinishReason = reason
		}
	}
	if u, ok := get(b, r, "usage"); ok {
		resp.Usage = responsesUsage(b, u)
	}
	out, ok := get(b, r, "output")
	if !ok || out.k == kNull {
		return nil
	}
	if out.k != kArray {
		return fmt.Errorf("output: expected array, got %s", out.k)
	}
	it := out.iter(b)
	for i := 0; ; i++ {
		_, item, ok := it.next()
		if !ok {
			return nil
		}
		if err := responsesOutputItem(s, item, i); err != nil {
			return err
		}
	}
}

// responsesOutputItem adds the text of one Responses API output item (message or tool call).
func responsesOutputItem(s *segs, item val, i int) error {
	b := s.b
	if item.k != kObject {
		return fmt.Errorf("output[%d]: expected object, got %s", i, item.k)
	}
	switch getStr(b, item, "type") {
	case "message":
		if content, ok := get(b, item, "content"); ok {
			switch content.k {
			case kString:
				s.add(i, -1, "assistant", ProvAssistant, content, "", "")
			case kArray:
				return responsesParts(s, content, i, "assistant", ProvAssistant, "", "output")
			}
		}
	case "function_call", "custom_tool_call", "mcp_call":
		name := getStr(b, item, "name")
		for _, key := range []string{"arguments", "input"} {
			if v, ok := get(b, item, key); ok {
				s.leaves(v, i, -1, "assistant", ProvToolCall, name, "")
			}
		}
	}
	return nil
}

func anthropicResponse(s *segs, r val, resp *Response) error {
	b := s.b
	resp.Model = getStr(b, r, "model")
	if msg, ok := errorMessage(b, r); ok {
		resp.Error = msg
	}
	resp.FinishReason = getStr(b, r, "stop_reason")
	if u, ok := get(b, r, "usage"); ok {
		var a anthUsage
		a.merge(b, u)
		resp.Usage = a.usage()
	}
	content, ok := get(b, r, "content")
	if !ok || content.k == kNull {
		return nil
	}
	if content.k != kArray {
		return fmt.Errorf("content: expected array, got %s", content.k)
	}
	it := content.iter(b)
	for j := 0; ; j++ {
		_, blk, ok := it.next()
		if !ok {
			return nil
		}
		if blk.k != kObject {
			return fmt.Errorf("content[%d]: expected object, got %s", j, blk.k)
		}
		switch getStr(b, blk, "type") {
		case "text":
			if v, ok := get(b, blk, "text"); ok && v.k == kString {
				s.add(0, j, "assistant", ProvAssistant, v, "", "")
			}
		case "tool_use", "server_tool_use", "mcp_tool_use":
			if v, ok := get(b, blk, "input"); ok {
				s.leaves(v, 0, j, "assistant", ProvToolCall, getStr(b, blk, "name"), "")
			}
		}
	}
}

func geminiResponse(s *segs, r val, resp *Response) error {
	b := s.b
	if r.k != kObject {
		return fmt.Errorf("expected object, got %s", r.k)
	}
	if m := getStr(b, r, "modelVersion"); m != "" {
		resp.Model = m
	}
	if msg, ok := errorMessage(b, r); ok {
		resp.Error = msg
	}
	if u, ok := get(b, r, "usageMetadata"); ok {
		resp.Usage = geminiUsage(b, u)
	}
	if pf, ok := get(b, r, "promptFeedback"); ok {
		if br := getStr(b, pf, "blockReason"); br != "" && resp.FinishReason == "" {
			resp.FinishReason = br // the prompt was blocked: no candidates
		}
	}
	cands, ok := get(b, r, "candidates")
	if !ok || cands.k == kNull {
		return nil
	}
	if cands.k != kArray {
		return fmt.Errorf("candidates: expected array, got %s", cands.k)
	}
	it := cands.iter(b)
	for i := 0; ; i++ {
		_, c, ok := it.next()
		if !ok {
			return nil
		}
		if c.k != kObject {
			return fmt.Errorf("candidates[%d]: expected object, got %s", i, c.k)
		}
		ci := i
		if n, ok := getInt(b, c, "index"); ok && n >= 0 && n < 1<<20 {
			ci = int(n)
		}
		if i == 0 {
			if fr := getStr(b, c, "finishReason"); fr != "" {
				resp.FinishReason = fr
			}
		}
		content, _ := get(b, c, "content")
		if parts, ok := get(b, content, "parts"); ok && parts.k == kArray {
			if err := geminiPartList(s, parts, ci, "model", ProvAssistant, func() string { return fmt.Sprintf("candidates[%d].content", i) }); err != nil {
				return err
			}
		}
	}
}

func ollamaResponse(s *segs, r val, resp *Response) error {
	b := s.b
	resp.Model = getStr(b, r, "model")
	if msg, ok := errorMessage(b, r); ok {
		resp.Error = msg
	}
	resp.FinishReason = getStr(b, r, "done_reason")
	resp.Usage = ollamaUsage(b, r)
	if m, ok := get(b, r, "message"); ok && m.k == kObject {
		return chatResponseMessage(s, m, 0)
	}
	if v, ok := get(b, r, "response"); ok && v.k == kString { // /api/generate
		s.add(0, -1, "assistant", ProvAssistant, v, "", "")
	}
	return nil
}
