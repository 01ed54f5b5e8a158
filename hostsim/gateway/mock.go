package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wasmguard/wasmguard/sdk/body"
)

// mockMaxBody caps a request body the mock reads (decoded or not).
const mockMaxBody = 64 << 20

// MockOptions tunes the built-in mock LLM upstream.
type MockOptions struct {
	// ChunkDelay is the pause between two SSE events of a streamed answer (default 20ms; negative: none).
	ChunkDelay time.Duration
	// Answer, when set, replaces the default answer text (which echoes the last user message).
	Answer string
}

// Header names a caller can set on a request to steer the mock (useful in tests and curl demos).
const (
	MockHeaderAnswer     = "x-mock-answer"         // the assistant text to return
	MockHeaderStatus     = "x-mock-status"         // answer with this HTTP status and a provider-shaped error
	MockHeaderChunkDelay = "x-mock-chunk-delay-ms" // pause between SSE events, in milliseconds
)

// NewMockLLM returns an offline stand-in for the LLM providers' APIs: OpenAI chat completions
// (/v1/chat/completions, Azure /openai/deployments/<d>/chat/completions), OpenAI Responses (/v1/responses),
// Anthropic Messages (/v1/messages) and Gemini (/v1beta/models/<m>:generateContent and :streamGenerateContent).
// Other POST paths are answered by the shape of the body. The answer echoes the start of the last user message,
// so a demo shows what the upstream really received (a masked email, say). Streams are sent event by event with
// a flush and a pause after each, and carry usage the way each provider does.
func NewMockLLM(opts MockOptions) http.Handler {
	if opts.ChunkDelay == 0 {
		opts.ChunkDelay = 20 * time.Millisecond
	}
	return &mockLLM{opts: opts}
}

type mockLLM struct{ opts MockOptions }

type mockFormat int

const (
	mockOpenAIChat mockFormat = iota
	mockOpenAIResponses
	mockAnthropic
	mockGemini
	mockOllamaChat     // Ollama's native /api/chat (NDJSON stream by default)
	mockOllamaGenerate // Ollama's native /api/generate
)

func (m *mockLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/") {
		w.Header().Set("content-type", "text/plain")
		_, _ = w.Write([]byte("wasmguard mock llm upstream\n"))
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "mock llm: only POST is served", http.StatusMethodNotAllowed)
		return
	}
	pf := mockFormatOfPath(r.URL.Path)
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, mockMaxBody))
	if err != nil {
		writeMockError(w, pf, http.StatusRequestEntityTooLarge, "request_too_large", "mock llm: request body: "+err.Error())
		return
	}
	// Providers accept compressed request bodies (the OpenAI and Anthropic SDKs can send them); so does the mock.
	if ce := r.Header.Get("content-encoding"); ce != "" {
		if !body.Supported(ce) {
			writeMockError(w, pf, http.StatusUnsupportedMediaType, "unsupported_content_encoding", "mock llm: content-encoding "+strconv.Quote(ce)+" is not supported")
			return
		}
		if raw, err = body.Decode(ce, raw, mockMaxBody); err != nil {
			writeMockError(w, pf, http.StatusBadRequest, "invalid_request_error", "mock llm: request body does not decode as "+strconv.Quote(ce)+": "+err.Error())
			return
		}
	}
	var req map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeMockError(w, pf, http.StatusBadRequest, "invalid_request_error", "mock llm: request body is not JSON: "+err.Error())
		return
	}
	f, stream := mockDetect(r, req)
	if s := r.Header.Get(MockHeaderStatus); s != "" {
		if code, err := strconv.Atoi(s); err == nil && code >= 400 && code <= 599 {
			writeMockError(w, f, code, "mock_error", "mock llm: error requested by "+MockHeaderStatus)
			return
		}
	}
	delay := m.opts.ChunkDelay
	if s := r.Header.Get(MockHeaderChunkDelay); s != "" {
		if ms, err := strconv.Atoi(s); err == nil && ms >= 0 {
			delay = time.Duration(ms) * time.Millisecond
		}
	}
	if delay < 0 {
		delay = 0
	}
	userText, inputChars := mockPrompt(f, req)
	answer := m.opts.Answer
	if h := r.Header.Get(MockHeaderAnswer); h != "" {
		answer = h
	}
	if answer == "" {
		answer = mockAnswer(userText)
	}
	model, _ := req["model"].(string)
	if f == mockGemini {
		model = geminiModel(r.URL.Path)
	}
	if model == "" {
		model = "mock-model"
	}
	x := &exchange{
		f: f, model: model, answer: answer, delay: delay,
		inTok: int64(inputChars/4 + 1), outTok: int64(len(strings.Fields(answer))*4/3 + 1),
		includeUsage: mockIncludeUsage(req),
	}
	if !stream {
		w.Header().Set("content-type", "application/json")
		_, _ = w.Write(x.body())
		return
	}
	evs := x.events()
	switch {
	case f == mockOllamaChat || f == mockOllamaGenerate:
		w.Header().Set("content-type", "application/x-ndjson")
	case f == mockGemini && r.URL.Query().Get("alt") != "sse":
		// Without alt=sse Gemini streams one JSON array, an element at a time.
		w.Header().Set("content-type", "application/json")
		evs = geminiArray(evs)
	default:
		w.Header().Set("content-type", "text/event-stream")
		w.Header().Set("cache-control", "no-cache")
	}
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for i, ev := range evs {
		if i > 0 && x.delay > 0 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(x.delay):
			}
		}
		if _, err := w.Write(ev); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}

// mockFormatOfPath is the API a path belongs to (OpenAI chat when the path does not say), for errors raised
// before the body is read.
func mockFormatOfPath(p string) mockFormat {
	switch {
	case strings.Contains(p, ":streamGenerateContent"), strings.Contains(p, ":generateContent"):
		return mockGemini
	case p == "/api/chat":
		return mockOllamaChat
	case p == "/api/generate":
		return mockOllamaGenerate
	case strings.HasSuffix(p, "/messages"):
		return mockAnthropic
	case strings.HasSuffix(p, "/responses"):
		return mockOpenAIResponses
	}
	return mockOpenAIChat
}

func mockDetect(r *http.Request, req map[string]any) (mockFormat, bool) {
	p := r.URL.Path
	stream, _ := req["stream"].(bool)
	if f := mockFormatOfPath(p); f == mockOllamaChat || f == mockOllamaGenerate {
		// Ollama streams unless the request says "stream": false.
		if v, ok := req["stream"].(bool); ok {
			return f, v
		}
		return f, true
	}
	switch {
	case strings.Contains(p, ":streamGenerateContent"):
		return mockGemini, true
	case strings.Contains(p, ":generateContent"):
		return mockGemini, false
	case strings.HasSuffix(p, "/messages"):
		return mockAnthropic, stream
	case strings.HasSuffix(p, "/responses"):
		return mockOpenAIResponses, stream
	case strings.HasSuffix(p, "/chat/completions"):
		return mockOpenAIChat, stream
	}
	switch {
	case req["contents"] != nil:
		return mockGemini, false
	case req["input"] != nil:
		return mockOpenAIResponses, stream
	case req["anthropic_version"] != nil || (req["system"] != nil && req["messages"] != nil):
		return mockAnthropic, stream
	}
	return mockOpenAIChat, stream
}

func geminiModel(path string) string {
	i := strings.Index(path, "/models/")
	if i < 0 {
		return ""
	}
	m := path[i+len("/models/"):]
	if j := strings.IndexByte(m, ':'); j >= 0 {
		m = m[:j]
	}
	return m
}

func mockIncludeUsage(req map[string]any) bool {
	so, _ := req["stream_options"].(map[string]any)
	b, _ := so["include_usage"].(bool)
	return b
}

// mockPrompt returns the text of the last user turn and the number of characters of all prompt text.
func mockPrompt(f mockFormat, req map[string]any) (string, int) {
	var last string
	total := 0
	add := func(role string, content any) {
		t := textOf(content)
		total += len(t)
		if role == "user" || role == "" {
			last = t
		}
	}
	switch f {
	case mockGemini:
		if si, ok := req["systemInstruction"]; ok {
			total += len(textOf(si))
		}
		for _, c := range asSlice(req["contents"]) {
			cm, _ := c.(map[string]any)
			role, _ := cm["role"].(string)
			add(role, cm["parts"])
		}
	case mockOllamaGenerate:
		if s, ok := req["system"].(string); ok {
			total += len(s)
		}
		add("user", req["prompt"])
	case mockOpenAIResponses:
		if s, ok := req["instructions"].(string); ok {
			total += len(s)
		}
		switch in := req["input"].(type) {
		case string:
			add("user", in)
		case []any:
			for _, it := range in {
				im, _ := it.(map[string]any)
				role, _ := im["role"].(string)
				if role == "" {
					role = "tool"
				}
				add(role, im["content"])
			}
		}
	default:
		if s := textOf(req["system"]); s != "" {
			total += len(s)
		}
		for _, m := range asSlice(req["messages"]) {
			mm, _ := m.(map[string]any)
			role, _ := mm["role"].(string)
			add(role, mm["content"])
		}
	}
	return last, total
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// textOf flattens the content shapes of the four APIs (string, parts arrays with "text", nested content).
func textOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var b strings.Builder
		for _, e := range t {
			s := textOf(e)
			if s != "" && b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(s)
		}
		return b.String()
	case map[string]any:
		if s, ok := t["text"].(string); ok {
			return s
		}
		if c, ok := t["content"]; ok {
			return textOf(c)
		}
		if p, ok := t["parts"]; ok {
			return textOf(p)
		}
	}
	return ""
}

func mockAnswer(user string) string {
	user = strings.Join(strings.Fields(user), " ")
	if r := []rune(user); len(r) > 160 {
		user = string(r[:160]) + "…"
	}
	if user == "" {
		return "Hello! This is the wasmguard mock upstream. It received no user text."
	}
	return "This is the wasmguard mock upstream. It received: \"" + user + "\". A real model would answer here."
}

type exchange struct {
	f             mockFormat
	model, answer string
	delay         time.Duration
	inTok, outTok int64
	includeUsage  bool
}

const mockCreated = 1763769600 // 2025-11-22, fixed so answers are reproducible

func (x *exchange) id(prefix string) string { return prefix + "mock0123456789" }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("mock llm: marshal: %v", err)) // only maps of plain values are marshalled
	}
	return b
}

// body is the non-streamed answer.
func (x *exchange) body() []byte {
	total := x.inTok + x.outTok
	switch x.f {
	case mockOpenAIResponses:
		return mustJSON(map[string]any{
			"id": x.id("resp_"), "object": "response", "created_at": mockCreated, "status": "completed", "model": x.model,
			"output": []any{map[string]any{
				"type": "message", "id": x.id("msg_"), "status": "completed", "role": "assistant",
				"content": []any{map[string]any{"type": "output_text", "text": x.answer, "annotations": []any{}}},
			}},
			"usage": map[string]any{"input_tokens": x.inTok, "output_tokens": x.outTok, "total_tokens": total,
				"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0}},
		})
	case mockAnthropic:
		return mustJSON(map[string]any{
			"id": x.id("msg_"), "type": "message", "role": "assistant", "model": x.model,
			"content":     []any{map[string]any{"type": "text", "text": x.answer}},
			"stop_reason": "end_turn", "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": x.inTok, "output_tokens": x.outTok},
		})
	case mockGemini:
		return mustJSON(x.geminiChunk(x.answer, true))
	case mockOllamaChat, mockOllamaGenerate:
		return mustJSON(x.ollamaChunk(x.answer, true))
	default:
		return mustJSON(map[string]any{
			"id": x.id("chatcmpl-"), "object": "chat.completion", "created": mockCreated, "model": x.model,
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": x.answer},
				"finish_reason": "stop"}},
			"usage": map[string]any{"prompt_tokens": x.inTok, "completion_tokens": x.outTok, "total_tokens": total},
		})
	}
}

func (x *exchange) geminiChunk(text string, last bool) map[string]any {
	cand := map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": text}}}, "index": 0}
	if last {
		cand["finishReason"] = "STOP"
	}
	out := map[string]any{"candidates": []any{cand}, "modelVersion": x.model}
	if last {
		out["usageMetadata"] = map[string]any{"promptTokenCount": x.inTok, "candidatesTokenCount": x.outTok, "totalTokenCount": x.inTok + x.outTok}
	}
	return out
}

// ollamaChunk is one line of Ollama's NDJSON stream (/api/chat: message; /api/generate: response); the last
// one carries done, done_reason and the counts and durations Ollama reports.
func (x *exchange) ollamaChunk(text string, last bool) map[string]any {
	out := map[string]any{"model": x.model, "created_at": "2025-11-22T00:00:00.000000000Z"}
	if x.f == mockOllamaGenerate {
		out["response"] = text
	} else {
		out["message"] = map[string]any{"role": "assistant", "content": text}
	}
	out["done"] = last
	if last {
		out["done_reason"] = "stop"
		out["total_duration"] = 1000000
		out["load_duration"] = 100000
		out["prompt_eval_count"] = x.inTok
		out["prompt_eval_duration"] = 200000
		out["eval_count"] = x.outTok
		out["eval_duration"] = 700000
	}
	return out
}

// geminiArray turns Gemini SSE events into the elements of the JSON array streamGenerateContent sends
// without alt=sse: "[" + first, "," + next ..., then "]".
func geminiArray(evs [][]byte) [][]byte {
	out := make([][]byte, 0, len(evs)+1)
	for i, ev := range evs {
		data := bytes.TrimSuffix(bytes.TrimPrefix(ev, []byte("data: ")), []byte("\n\n"))
		sep := ",\r\n"
		if i == 0 {
			sep = "["
		}
		out = append(out, append([]byte(sep), data...))
	}
	return append(out, []byte("]"))
}

// pieces splits the answer into the deltas of a stream: a word and its trailing space each.
func (x *exchange) pieces() []string {
	var out []string
	rest := x.answer
	for rest != "" {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:i+1])
		rest = rest[i+1:]
	}
	return out
}

func sseData(v any) []byte { return append(append([]byte("data: "), mustJSON(v)...), "\n\n"...) }

func sseEvent(name string, v any) []byte {
	return append(append(append([]byte("event: "+name+"\n"), "data: "...), mustJSON(v)...), "\n\n"...)
}

// events is the streamed answer, one SSE event per element.
func (x *exchange) events() [][]byte {
	var evs [][]byte
	ps := x.pieces()
	switch x.f {
	case mockOpenAIResponses:
		// The complete grammar of a one-message text answer, as the OpenAI SDKs' stream helpers accumulate it:
		// created, in_progress, output_item.added, content_part.added, output_text.delta..., output_text.done,
		// content_part.done, output_item.done, completed; every event numbered by sequence_number.
		seq := 0
		add := func(typ string, fields map[string]any) {
			fields["type"] = typ
			fields["sequence_number"] = seq
			seq++
			evs = append(evs, sseEvent(typ, fields))
		}
		msgID := x.id("msg_")
		resp := func(status string, output []any, usage any) map[string]any {
			return map[string]any{"id": x.id("resp_"), "object": "response", "created_at": mockCreated, "model": x.model,
				"status": status, "error": nil, "incomplete_details": nil, "instructions": nil, "output": output,
				"parallel_tool_calls": true, "tool_choice": "auto", "tools": []any{}, "temperature": 1.0, "top_p": 1.0,
				"text": map[string]any{"format": map[string]any{"type": "text"}}, "usage": usage}
		}
		part := func(text string) map[string]any {
			return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
		}
		item := func(status string, content []any) map[string]any {
			return map[string]any{"id": msgID, "type": "message", "status": status, "role": "assistant", "content": content}
		}
		loc := func(m map[string]any) map[string]any {
			m["item_id"], m["output_index"], m["content_index"] = msgID, 0, 0
			return m
		}
		add("response.created", map[string]any{"response": resp("in_progress", []any{}, nil)})
		add("response.in_progress", map[string]any{"response": resp("in_progress", []any{}, nil)})
		add("response.output_item.added", map[string]any{"output_index": 0, "item": item("in_progress", []any{})})
		add("response.content_part.added", loc(map[string]any{"part": part("")}))
		for _, p := range ps {
			add("response.output_text.delta", loc(map[string]any{"delta": p, "logprobs": []any{}}))
		}
		add("response.output_text.done", loc(map[string]any{"text": x.answer, "logprobs": []any{}}))
		add("response.content_part.done", loc(map[string]any{"part": part(x.answer)}))
		done := item("completed", []any{part(x.answer)})
		add("response.output_item.done", map[string]any{"output_index": 0, "item": done})
		add("response.completed", map[string]any{"response": resp("completed", []any{done}, map[string]any{
			"input_tokens": x.inTok, "output_tokens": x.outTok, "total_tokens": x.inTok + x.outTok,
			"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0}})})
	case mockAnthropic:
		evs = append(evs, sseEvent("message_start", map[string]any{"type": "message_start", "message": map[string]any{
			"id": x.id("msg_"), "type": "message", "role": "assistant", "model": x.model, "content": []any{},
			"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": x.inTok, "output_tokens": 1}}}))
		evs = append(evs, sseEvent("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}}))
		evs = append(evs, sseEvent("ping", map[string]any{"type": "ping"}))
		for _, p := range ps {
			evs = append(evs, sseEvent("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
				"delta": map[string]any{"type": "text_delta", "text": p}}))
		}
		evs = append(evs, sseEvent("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}))
		evs = append(evs, sseEvent("message_delta", map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil}, "usage": map[string]any{"output_tokens": x.outTok}}))
		evs = append(evs, sseEvent("message_stop", map[string]any{"type": "message_stop"}))
	case mockGemini:
		for i, p := range ps {
			evs = append(evs, sseData(x.geminiChunk(p, i == len(ps)-1)))
		}
	case mockOllamaChat, mockOllamaGenerate:
		for _, p := range ps {
			evs = append(evs, append(mustJSON(x.ollamaChunk(p, false)), '\n'))
		}
		evs = append(evs, append(mustJSON(x.ollamaChunk("", true)), '\n'))
	default:
		chunk := func(delta map[string]any, finish any) map[string]any {
			return map[string]any{"id": x.id("chatcmpl-"), "object": "chat.completion.chunk", "created": mockCreated, "model": x.model,
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		}
		evs = append(evs, sseData(chunk(map[string]any{"role": "assistant", "content": ""}, nil)))
		for _, p := range ps {
			evs = append(evs, sseData(chunk(map[string]any{"content": p}, nil)))
		}
		evs = append(evs, sseData(chunk(map[string]any{}, "stop")))
		if x.includeUsage {
			evs = append(evs, sseData(map[string]any{"id": x.id("chatcmpl-"), "object": "chat.completion.chunk", "created": mockCreated,
				"model": x.model, "choices": []any{},
				"usage": map[string]any{"prompt_tokens": x.inTok, "completion_tokens": x.outTok, "total_tokens": x.inTok + x.outTok}}))
		}
		evs = append(evs, []byte("data: [DONE]\n\n"))
	}
	return evs
}

func writeMockError(w http.ResponseWriter, f mockFormat, status int, code, msg string) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	var body any
	switch f {
	case mockAnthropic:
		body = map[string]any{"type": "error", "error": map[string]any{"type": code, "message": msg}}
	case mockGemini:
		body = map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}}
	case mockOllamaChat, mockOllamaGenerate:
		body = map[string]any{"error": msg}
	default:
		body = map[string]any{"error": map[string]any{"message": msg, "type": code, "param": nil, "code": code}}
	}
	_, _ = w.Write(mustJSON(body))
}
