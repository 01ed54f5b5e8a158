package llm

import "strings"

// DetectFormat returns the wire format of a request, first by its path and then, when the path says nothing, by
// the shape of the body (which may be nil). Known paths (matched at the end of the path, case-insensitively, so
// any prefix a gateway adds is allowed):
//
//	…/chat/completions                           openai_chat (OpenAI, Azure /openai/deployments/{d}/…, vLLM,
//	                                             Mistral, Ollama /v1, LiteLLM, OpenRouter, Groq, …)
//	…/completions, …/completion, …/infill        openai_chat: legacy completions ("prompt" read as user text;
//	                                             /v1/completions, /completions, /v1/engines/{m}/completions,
//	                                             Mistral FIM and agents) and llama.cpp /completion, /infill
//	…/responses, …/conversations[/{id}/items]    openai_responses (OpenAI, Azure /openai/responses, /openai/v1/…)
//	…/threads…, …/assistants…                    openai_assistants (Assistants API: threads, messages, runs)
//	…/v1/messages                                anthropic (also Bedrock-style bodies with anthropic_version)
//	…/v1/messages/batches                        anthropic_batch (each request's params read as anthropic)
//	…/models/{m}:generateContent, :streamGenerateContent   gemini (Generative Language API and Vertex AI)
//	…/models/{m}:batchGenerateContent            gemini_batch (each inlined request read as gemini)
//	…/api/chat, …/api/generate                   ollama
//
// Embeddings, moderation and token-counting paths are FormatUnknown without looking at the body (read them with
// the generic reader). A path with an unknown suffix falls back to the body shape: "contents" → gemini; "input" or
// "instructions" without "messages" → openai_responses; "messages" with a top-level "system",
// "anthropic_version" or Anthropic content blocks → anthropic; other "messages" → openai_chat; "requests" whose
// items have "params" → anthropic_batch. Anything else is FormatUnknown.
func DetectFormat(path string, body []byte) Format {
	if f := formatFromPath(path); f != FormatUnknown || genericPath(path) {
		return f
	}
	return formatFromBody(body)
}

// genericPath reports whether the path is a known API that is no conversation (embeddings, moderation, token
// counting...): its body is not guessed from its shape ({"input": [...]} is not a Responses request there) but
// read with the generic reader.
func genericPath(path string) bool {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	p := strings.ToLower(strings.TrimRight(path, "/"))
	for _, suf := range []string{"/embeddings", "/moderations", "/api/embed", "/api/embeddings", ":embedcontent",
		":batchembedcontents", ":counttokens", "/count_tokens", "/rerank", "/tokenize", "/detokenize"} {
		if strings.HasSuffix(p, suf) {
			return true
		}
	}
	return false
}

func formatFromPath(path string) Format {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	p := strings.ToLower(strings.TrimRight(path, "/"))
	switch {
	case p == "":
		return FormatUnknown
	case strings.Contains(p, "/threads/") || strings.HasSuffix(p, "/threads") || strings.HasSuffix(p, "/assistants") ||
		strings.Contains(p, "/assistants/"):
		return FormatOpenAIAssistants
	case strings.HasSuffix(p, "/chat/completions"):
		return FormatOpenAIChat
	case strings.HasSuffix(p, ":generatecontent") || strings.HasSuffix(p, ":streamgeneratecontent"):
		return FormatGemini
	case strings.HasSuffix(p, ":batchgeneratecontent"):
		return FormatGeminiBatch
	case strings.HasSuffix(p, "/messages/batches"):
		return FormatAnthropicBatch
	case strings.HasSuffix(p, "/v1/messages") || p == "/messages" || strings.HasSuffix(p, "/anthropic/v1/messages"):
		return FormatAnthropic
	case strings.HasSuffix(p, "/responses") || strings.HasSuffix(p, "/items") && strings.Contains(p, "/conversations/"):
		return FormatOpenAIResponses
	case strings.HasSuffix(p, "/conversations"): // create a conversation: {"items": [...], "metadata": {...}}
		return FormatOpenAIResponses
	case strings.HasSuffix(p, "/api/chat") || strings.HasSuffix(p, "/api/generate"):
		return FormatOllama // also behind a prefix (/llm/api/generate, /ollama/api/chat)
	case strings.HasSuffix(p, "/completions") || strings.HasSuffix(p, "/completion") || strings.HasSuffix(p, "/infill"):
		// legacy completions (/v1/completions, /completions, /v1/engines/{m}/completions, Azure
		// /openai/deployments/{d}/completions, Mistral /v1/fim/completions and /v1/agents/completions) and
		// llama.cpp /completion and /infill: "prompt" instead of "messages", same errors and usage
		return FormatOpenAIChat
	}
	return FormatUnknown
}

func formatFromBody(body []byte) Format {
	if len(body) == 0 || validate(body) != nil {
		return FormatUnknown
	}
	return formatFromRoot(body, root(body))
}

// formatFromRoot is formatFromBody for a validated body and its root value.
func formatFromRoot(body []byte, r val) Format {
	if r.k != kObject {
		return FormatUnknown
	}
	var hasMessages, hasContents, hasInput, hasInstr, anth, batch bool
	var messages val
	it := r.iter(body)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		switch keyCanon(body, k) {
		case "messages":
			hasMessages, messages = v.k == kArray, v
		case "contents":
			hasContents = v.k == kArray
		case "input":
			hasInput = true
		case "instructions":
			hasInstr = true
		case "system", "anthropic_version", "stop_sequences", "top_k":
			anth = true
		case "requests":
			if v.k == kArray {
				rit := v.iter(body)
				_, first, _ := rit.next()
				_, batch = get(body, first, "params")
			}
		}
	}
	switch {
	case batch && !hasMessages && !hasContents:
		return FormatAnthropicBatch
	case hasContents && !hasMessages:
		return FormatGemini
	case (hasInput || hasInstr) && !hasMessages:
		return FormatOpenAIResponses
	case hasMessages:
		if anth || hasAnthropicBlocks(body, messages) {
			return FormatAnthropic
		}
		return FormatOpenAIChat
	}
	return FormatUnknown
}

// hasAnthropicBlocks reports whether some message has a content block whose type exists only in Anthropic's API.
func hasAnthropicBlocks(b []byte, messages val) bool {
	it := messages.iter(b)
	for {
		_, m, ok := it.next()
		if !ok {
			return false
		}
		content, ok := get(b, m, "content")
		if !ok || content.k != kArray {
			continue
		}
		pit := content.iter(b)
		for {
			_, part, ok := pit.next()
			if !ok {
				break
			}
			switch getStr(b, part, "type") {
			case "tool_use", "tool_result", "document", "thinking", "redacted_thinking", "search_result":
				return true
			case "image":
				if _, ok := get(b, part, "source"); ok {
					return true
				}
			}
		}
	}
}

// ModelFromPath returns the model named by a request path: Gemini/Vertex ".../models/{model}:generateContent"
// and Azure OpenAI "/openai/deployments/{deployment}/..." (the deployment name). It returns "" otherwise.
func ModelFromPath(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if i := strings.LastIndex(path, "/models/"); i >= 0 {
		m := path[i+len("/models/"):]
		if j := strings.IndexByte(m, ':'); j >= 0 {
			m = m[:j]
		}
		if !strings.Contains(m, "/") {
			return m
		}
	}
	if i := strings.Index(path, "/deployments/"); i >= 0 {
		m := path[i+len("/deployments/"):]
		if j := strings.IndexByte(m, '/'); j >= 0 {
			m = m[:j]
		}
		return m
	}
	return ""
}

// IsStreamPath reports whether the path itself asks for a stream (Gemini :streamGenerateContent).
func IsStreamPath(path string) bool {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	return strings.HasSuffix(strings.ToLower(path), ":streamgeneratecontent")
}
