package llm

// Ollama native API (/api/chat, /api/generate): requests share the OpenAI chat message shape (openai_chat.go);
// responses and NDJSON stream lines are read here and in stream.go.

// ---- responses ----

func ollamaUsage(b []byte, r val) Usage {
	in, ok1 := getInt(b, r, "prompt_eval_count")
	out, ok2 := getInt(b, r, "eval_count")
	if !ok1 && !ok2 {
		return Usage{}
	}
	return Usage{Input: in, Output: out, Total: in + out, Present: true}
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
