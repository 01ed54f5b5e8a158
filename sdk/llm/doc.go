// Package llm reads and rewrites LLM API payloads (OpenAI Chat Completions and Responses, Anthropic Messages,
// Google Gemini generateContent, and the OpenAI-compatible servers: Azure OpenAI, vLLM, Mistral, Ollama) without
// encoding/json, so the wasmguard filters can look at the text of a request or response and change exactly the
// strings they must while every other byte passes through unchanged.
//
// # Requests
//
// DetectFormat finds the format from the path (and the body shape when the path is not a known API path).
// ParseRequest turns a body into a Request: model, stream flag, output-token limit, and one Segment per piece of
// text the model will read, each with its role, its Provenance (system, user, assistant, tool_result, document,
// tool_call) and the byte location (Loc) of its JSON string token:
//
//	f := llm.DetectFormat(path, body)
//	req, err := llm.ParseRequestWith(f, body, llm.Options{Path: path})
//	if err != nil { /* on_error path: the body is not a request we can read */ }
//	var edits []llm.Edit
//	for _, s := range req.Segments {
//		if masked, changed := mask(s.Text); changed {
//			edits = append(edits, llm.Edit{Loc: s.Loc, Text: masked})
//		}
//	}
//	body, err = llm.ApplyEditsStrict(body, edits) // re-escapes Text; all other bytes unchanged
//
// Tool-call arguments are segments too: OpenAI's function.arguments is one string holding JSON (the segment is that
// string); Anthropic tool_use.input, Gemini functionCall.args / functionResponse.response and Ollama's object
// arguments are objects, and each of their string leaves is a segment with Path set ("query", "items[0].name").
//
// SetMaxTokens and EnsureStreamUsage make the two request rewrites a token budget needs.
//
// # Responses and streams
//
// ParseResponse reads a non-streaming response (assistant text and tool-call arguments as segments with Loc,
// finish reason, normalised Usage). For streams, feed each sse.Event to a StreamParser: it returns Deltas (text,
// tool-call arguments, finish, usage, error, done, and snapshots) whose Loc points into ev.Data, so RewriteEvent
// can change a delta's text and re-encode the event. A filter that rewrites text must also rewrite DeltaSnapshot:
// the Responses API repeats the whole text in its *.done events and in response.completed.
//
//	var dec sse.Decoder
//	sp := llm.NewStreamParser(f)
//	for _, ev := range dec.Feed(chunk) {
//		deltas, err := sp.Parse(ev)
//		...
//		if len(edits) > 0 { ev = llm.RewriteEvent(ev, edits) } // ev.Raw is the new encoding
//		out = append(out, ev.Raw...)
//	}
//
// The common text-delta events (an OpenAI chat chunk with one choice and a content delta, Anthropic's
// content_block_delta text_delta, Responses' response.output_text.delta, a Gemini single-candidate text part with
// its usageMetadata) are recognised by their exact bytes and read without the generic parse; any other shape
// (another key order, extra keys or white space) takes the full parser, with the same deltas (fuzz-checked).
//
// In tests, ReadStream(f, body) decodes a whole transcript (SSE, or NDJSON for Ollama) and returns all its deltas.
//
// # What is read
//
// Besides the conversation: tool definitions and structured-output schemas (every string the model reads in them,
// provenance tool_definition), end-user ids, metadata, message names and image/file URLs (provenance metadata),
// Gemini inlineData with a text MIME type (base64-decoded, Encoding base64), Ollama /api/generate system and
// template, legacy-completions prompts, and every item type of the Responses API (an unknown item type has its
// strings read as tool_result). Token ids instead of text (legacy prompts, Ollama "context") are ErrUnreadable.
// A body of no known format can be read with the generic reader (ParseGeneric, Options.Generic): every JSON string
// is a segment. Attachments (attach.go): a file sent inline with a textual media type (a data: URL in OpenAI
// file_data or image_url, Anthropic base64 and URL sources, Gemini inlineData) is decoded into a segment whose
// edit re-encodes it; a binary one (images, PDFs, audio) is not read but listed in Request.Attachments, for the
// filter's policy, as is a file the provider fetches by URL or file id (Attachment.Remote). Never read: encrypted reasoning. Reasoning deltas
// (thinking_delta, reasoning summaries in streams, reasoning_content) are not deltas. Bedrock Converse and the AWS
// event-stream framing are not supported (Bedrock's anthropic_version bodies are: they are Anthropic).
//
// # Notes
//
// Bodies are validated once (strict JSON, valid UTF-8 inside strings, nesting at most MaxDepth) and then read by
// byte offsets; decoding a string allocates its text, nothing else allocates per byte.
//
// Keys are matched exactly (escapes decoded), as the providers' parsers match them. Every copy of a text-bearing
// field is a segment with its own Loc: duplicates ("text" twice) and spellings that only fold to the name ("Text",
// "meſſages"), which Go upstreams (Ollama, LocalAI: encoding/json) read. Scalars (model, stream, limits, type) come
// from the last exact copy, as every provider's decoder keeps the last copy (Python json and pydantic, JavaScript
// JSON.parse, Go encoding/json, protobuf JSON); for FormatOllama folded copies count too. Roles merge every copy
// and the least trusted wins; a part's type never hides its text. Options.DuplicateKeys = DuplicateKeysReject
// refuses any body with a duplicate (or case-folded duplicate) key instead, with ErrDuplicateKey.
// # Layout
//
// One file per wire format holds its request and response parsing: openai_chat.go (also legacy completions and
// llama.cpp), openai_responses.go, openai_assistants.go, anthropic.go, gemini.go, ollama.go, batch.go (the batch
// containers), generic.go (the generic and text readers), residual.go; stream events are parsed in stream.go
// (with fast.go's exact-byte fast paths); json.go and keys.go are the JSON reader and key matching shared by all.
//
// Nothing here panics on bad input; errors name the JSON path ("messages[3].content: expected string, array or
// null, got number"). Every error of ParseRequest, ParseRequestWith and ParseResponse wraps ErrInvalidJSON (not
// JSON, bad UTF-8, too deep, not an object), ErrInvalidShape (a known field of the wrong type) or
// ErrUnknownFormat, so callers can tell a bad body from a host failure with errors.Is.
package llm
