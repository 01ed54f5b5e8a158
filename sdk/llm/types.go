package llm

// Format names an LLM API wire format.
type Format string

// The formats this package understands. OpenAI-compatible servers (Azure OpenAI, vLLM, Mistral, Ollama's /v1
// endpoints, LiteLLM, ...) use FormatOpenAIChat or FormatOpenAIResponses; Ollama's native /api/chat uses
// FormatOllama (the chat message shape with NDJSON streaming).
const (
	FormatUnknown         Format = ""
	FormatOpenAIChat      Format = "openai_chat"
	FormatOpenAIResponses Format = "openai_responses"
	FormatAnthropic       Format = "anthropic"
	FormatGemini          Format = "gemini"
	FormatOllama          Format = "ollama"
	// Containers of other formats' requests, and the Assistants API. Their responses carry no model output
	// except Assistants messages and run streams.
	FormatOpenAIAssistants Format = "openai_assistants" // /v1/assistants, /v1/threads/… (messages, runs)
	FormatAnthropicBatch   Format = "anthropic_batch"   // /v1/messages/batches: requests[].params
	FormatGeminiBatch      Format = "gemini_batch"      // :batchGenerateContent: inlined requests
)

// Family returns the format whose error shapes and conventions a format follows: anthropic for anthropic_batch,
// gemini for gemini_batch, openai_chat for openai_assistants, the format itself otherwise.
func (f Format) Family() Format {
	switch f {
	case FormatAnthropicBatch:
		return FormatAnthropic
	case FormatGeminiBatch:
		return FormatGemini
	case FormatOpenAIAssistants:
		return FormatOpenAIChat
	}
	return f
}

// Provenance says where a piece of text came from, which is what a prompt-injection or PII policy keys on.
type Provenance string

// Provenances. Tool results and documents are untrusted third-party content even when the role is "user".
const (
	ProvSystem     Provenance = "system"      // system/developer prompt, instructions, systemInstruction
	ProvUser       Provenance = "user"        // text typed by the end user
	ProvAssistant  Provenance = "assistant"   // model output (earlier turns, or the response)
	ProvToolResult Provenance = "tool_result" // output of a tool/function fed back to the model
	ProvDocument   Provenance = "document"    // a retrieved or attached document
	ProvToolCall   Provenance = "tool_call"   // arguments of a tool call made by the model
	// ProvToolDefinition is the description of a tool offered to the model (only with Options.ToolDefinitions):
	// text from a tool's author, e.g. an MCP server, that the model reads as instructions ("tool poisoning").
	ProvToolDefinition Provenance = "tool_definition"
	// ProvMetadata is client data sent with a request that the model does not read as conversation but the
	// provider receives: end-user ids ("user", "safety_identifier", Anthropic metadata.user_id), "metadata",
	// Vertex "labels", a message's "name", image and file URLs, file names, predicted output. A PII filter masks
	// it; a prompt-injection filter may ignore it.
	ProvMetadata Provenance = "metadata"
)

// Provenances lists every provenance, for configurations that default to all of them.
var Provenances = []Provenance{ProvSystem, ProvUser, ProvAssistant, ProvToolResult, ProvDocument, ProvToolCall,
	ProvToolDefinition, ProvMetadata}

// Loc is the byte range [Start, End) of a JSON string token, quotes included, in the body (or, for stream deltas,
// in sse.Event.Data).
type Loc struct{ Start, End int }

// Len returns End - Start.
func (l Loc) Len() int { return l.End - l.Start }

// Segment is one piece of text in a request or response, with where it came from and where it is.
type Segment struct {
	Index      int // position in Request.Segments / Response.Segments
	Message    int // index of the message/item/content/choice it belongs to; -1 for top-level system/instructions
	Part       int // index of the content part/block inside the message; -1 when the content is a plain string
	Role       string
	Provenance Provenance
	Text       string // decoded text
	Loc        Loc    // the JSON string token of Text
	// Tool is the tool/function name for tool_call and tool_result segments when the payload names it.
	Tool string
	// Path is the JSON path of the string inside a tool-call argument object or tool-result object (Anthropic
	// tool_use input, Gemini functionCall.args / functionResponse.response, Ollama arguments), e.g. "query" or
	// "filters[0].name"; for metadata, tool-definition and generic segments the path from the field that holds it
	// ("metadata.user_id", "tools[0].function.description"); "" otherwise.
	Path string
	// Encoding says how Text is written at Loc: "" a JSON string token holding Text; EncodingBase64 a JSON string
	// token holding Text base64-encoded (Gemini inlineData, Anthropic base64 sources with a text MIME type);
	// EncodingDataURL a JSON string token holding a data: URL whose decoded data is Text (OpenAI file_data,
	// image_url, Anthropic URL sources with a text MIME type; see attach.go); EncodingRaw the bytes of a
	// non-JSON text body (Loc has no quotes); EncodingForm a percent-encoded form value. Rewrite a segment with
	// Segment.Edit, which carries the encoding, so ApplyEdits writes the new text the same way.
	Encoding string
}

// Encodings of Segment.Encoding and Edit.Encoding.
const (
	EncodingBase64 = "base64"
	// EncodingDataURL: the edit keeps the URL's "data:<mime>[;params][;base64]," prefix and writes the new text
	// after it as the URL encoded its data (base64, or percent-encoded).
	EncodingDataURL = "data_url"
	EncodingRaw     = "raw"
	EncodingForm    = "form"
)

// Edit returns the edit that replaces the segment's text with text, in the segment's encoding.
func (s *Segment) Edit(text string) Edit { return Edit{Loc: s.Loc, Text: text, Encoding: s.Encoding} }

// Request is a parsed LLM API request body.
type Request struct {
	Format Format
	Model  string // "" when the body does not name it (Gemini, Azure deployments: see ModelFromPath)
	Stream bool
	// StreamUsage is OpenAI chat's stream_options.include_usage.
	StreamUsage bool
	// MaxTokens is the output-token limit and MaxTokensField the field it came from ("max_tokens",
	// "max_completion_tokens", "max_output_tokens", "generationConfig.maxOutputTokens", "options.num_predict");
	// both are zero when the request sets no limit.
	MaxTokens      int64
	MaxTokensField string
	// Choices is how many completions the request asks for, each up to MaxTokens: OpenAI chat and legacy
	// completions "n" (and legacy "best_of", generated and billed server-side: the larger binds), Gemini
	// generationConfig.candidateCount; 0 when the request does not say (one). Outputs returns it at least 1.
	Choices int64
	// Batch sums the inner requests of a batch container (FormatAnthropicBatch, FormatGeminiBatch inlined
	// requests); zero otherwise.
	Batch    BatchInfo
	Messages int // number of messages/items/contents
	Segments []Segment
	// Attachments are the inline files, images and audio of the request that are not text (attach.go): the model
	// reads them, no text filter can. Textual attachments are segments instead.
	Attachments []Attachment

	// residualFrom is 1 + the index of the first residual segment when the parse added them (Options.Residual).
	residualFrom int
}

// BatchInfo describes the inner requests of a batch: how many, the sum of their output-token limits (each times
// its completions), and how many completions set no limit.
type BatchInfo struct {
	Requests  int
	Output    int64
	Unlimited int64
}

// Outputs is the number of completions the request asks for (Choices, at least 1): the output a budget
// reserves is Outputs × the output-token limit.
func (r *Request) Outputs() int64 { return max(r.Choices, 1) }

// Text returns the texts of the segments with the given provenances (all segments when none are given), joined
// with "\n".
func (r *Request) Text(provs ...Provenance) string { return joinText(r.Segments, provs) }

func joinText(segs []Segment, provs []Provenance) string {
	n := 0
	for i := range segs {
		if hasProv(provs, segs[i].Provenance) {
			n += len(segs[i].Text) + 1
		}
	}
	out := make([]byte, 0, n)
	for i := range segs {
		if hasProv(provs, segs[i].Provenance) {
			if len(out) > 0 {
				out = append(out, '\n')
			}
			out = append(out, segs[i].Text...)
		}
	}
	return string(out)
}

func hasProv(provs []Provenance, p Provenance) bool {
	if len(provs) == 0 {
		return true
	}
	for _, x := range provs {
		if x == p {
			return true
		}
	}
	return false
}

// Usage is token usage reported by a provider, normalised:
//   - Input counts every prompt token, cached ones included (Anthropic's input_tokens + cache_read_input_tokens +
//     cache_creation_input_tokens);
//   - Output counts every generated token, reasoning included (Gemini candidatesTokenCount + thoughtsTokenCount);
//   - Cached is the part of Input read from a prompt cache, CacheWrite the part written to it (Anthropic);
//   - Reasoning is the part of Output spent on reasoning/thinking;
//   - Total is the provider's total when given, else Input + Output.
//
// Present is true once any usage field was seen.
type Usage struct {
	Input, Output, Cached, CacheWrite, Reasoning, Total int64
	Present                                             bool
}

// Response is a parsed non-streaming LLM API response body.
type Response struct {
	Format       Format
	Model        string
	Segments     []Segment // assistant text and tool-call arguments; Message is the choice/candidate index
	FinishReason string    // of the first choice/candidate, as the provider spells it
	Usage        Usage
	// Error is the provider's error message when the body is an error object ({"error": ...}).
	Error string
}

// Text returns the texts of the segments with the given provenances (all when none are given), joined with "\n".
func (r *Response) Text(provs ...Provenance) string { return joinText(r.Segments, provs) }
