package llm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnknownFormat is returned when the format is unknown and cannot be detected from the body.
var ErrUnknownFormat = errors.New("unknown llm api format")

// Options tune ParseRequestWith.
type Options struct {
	// Path is the request path. It supplies the Gemini model and stream flag (":streamGenerateContent") and the
	// Azure deployment as Model when the body names none.
	Path string
	// DocumentMarkers mark retrieved documents pasted into user content: a user (or tool-free) text segment whose
	// text, after leading white space, starts with one of these markers (e.g. "<document>", "[retrieved]") gets
	// provenance document.
	DocumentMarkers []string
	// ToolDefinitions is kept for compatibility and has no effect: tool definitions (tools[] / functions[] /
	// functionDeclarations[], MCP tool lists) and structured-output schemas are always segments, with provenance
	// tool_definition, Message -1, Part the tool's index, Tool its name and Path the JSON path of each string: every
	// string the model reads in them (names, descriptions, enum values, titles...), not the schema "type" words.
	ToolDefinitions bool
	// DuplicateKeys chooses what a body with duplicate keys gets: DuplicateKeysInspect (the default) reads every
	// copy of a text-bearing field as its own segment; DuplicateKeysReject refuses a body in which some object has
	// two keys that are equal, or that fold to the same key as Go upstreams match them ("text" and "Text"), with an
	// error wrapping ErrDuplicateKey (and ErrInvalidShape), for the filter's on_error policy.
	DuplicateKeys DuplicateKeys
	// Generic makes a body of no known format (FormatUnknown after detection) parse with the generic reader
	// (ParseGeneric) instead of failing with ErrUnknownFormat.
	Generic bool
	// ContentType is the request's Content-Type. A body that is not JSON, sent as text (text/*) or as a form
	// (application/x-www-form-urlencoded), is read as text instead of failing with ErrInvalidJSON: the whole text
	// body is one user segment (Encoding raw), each form value one (Encoding form, Path the field name). A JSON
	// body is parsed as JSON whatever the Content-Type says (upstreams do).
	ContentType string
	// Residual adds every string of a known-format body that no segment covers as a metadata segment (residual.go):
	// fields this package does not know still reach a PII filter. It costs a second walk over the body.
	Residual bool
}

// DuplicateKeys is the policy for objects with duplicate keys (Options.DuplicateKeys).
type DuplicateKeys uint8

// Duplicate-key policies.
const (
	DuplicateKeysInspect DuplicateKeys = iota
	DuplicateKeysReject
)

// ErrDuplicateKey is wrapped by the error for a body with duplicate keys under DuplicateKeysReject.
var ErrDuplicateKey = errors.New("duplicate key")

// ErrUnreadable is wrapped by the error for a request whose content cannot be inspected: token ids instead of a
// prompt (legacy completions, llama.cpp, Ollama "context"). It also wraps ErrInvalidShape, so callers that map
// parse errors to their on_error policy handle it without change.
var ErrUnreadable = errors.New("content cannot be inspected")

// ParseRequest parses an LLM API request body of format f (FormatUnknown: detect from the body shape).
// Every string the upstream model would read as conversation content becomes a Segment; images, audio and files
// are skipped but the Message/Part indices still count them. Malformed JSON, invalid UTF-8, a non-object body or
// a known field of the wrong type give an error naming the JSON path.
//
// Duplicate keys: every occurrence of a content field is parsed (so nothing can hide in a duplicate), and for
// scalars (model, role, stream, limits) the last occurrence wins, as in the upstream decoders.
func ParseRequest(f Format, body []byte) (*Request, error) {
	return ParseRequestWith(f, body, Options{})
}

// ParseRequestWith is ParseRequest with options.
func ParseRequestWith(f Format, body []byte, o Options) (*Request, error) {
	if err := validate(body); err != nil {
		if req, ok := textRequest(f, body, o); ok {
			return req, nil
		}
		return nil, fmt.Errorf("parse request: %w", err)
	}
	r := root(body)
	if o.DuplicateKeys == DuplicateKeysReject {
		if err := checkDuplicates(body, r); err != nil {
			return nil, fmt.Errorf("parse request: %w", shapeError{err})
		}
	}
	if f == FormatUnknown {
		if f = formatFromPath(o.Path); f == FormatUnknown && !genericPath(o.Path) {
			f = formatFromRoot(body, r)
		}
		if f == FormatUnknown {
			if o.Generic {
				return genericRequest(body, r), nil
			}
			return nil, fmt.Errorf("parse request: %w", ErrUnknownFormat)
		}
	}
	if r.k != kObject {
		return nil, fmt.Errorf("parse request: %w: body is a JSON %s, not an object", ErrInvalidJSON, r.k)
	}
	p := reqParser{b: body, req: &Request{Format: f}, opts: o}
	var err error
	switch f {
	case FormatOpenAIChat, FormatOllama:
		err = p.chat(r)
	case FormatOpenAIResponses:
		err = p.responses(r)
	case FormatAnthropic:
		err = p.anthropic(r)
	case FormatGemini:
		err = p.gemini(r)
	case FormatOpenAIAssistants:
		err = p.assistants(r)
	case FormatAnthropicBatch:
		err = p.anthropicBatch(r)
	case FormatGeminiBatch:
		err = p.geminiBatch(r)
	default:
		return nil, fmt.Errorf("parse request: %w: %q", ErrUnknownFormat, string(f))
	}
	if err == nil {
		err = p.err
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s request: %w", f, inputErr(err))
	}
	if o.Residual {
		p.req.residualFrom = len(p.req.Segments) + 1
		p.residual(r)
	}
	if p.req.Model == "" && o.Path != "" {
		p.req.Model = ModelFromPath(o.Path)
	}
	if f == FormatGemini && IsStreamPath(o.Path) { // Gemini streams by path
		p.req.Stream = true
	}
	return p.req, nil
}

type reqParser struct {
	b     []byte
	req   *Request
	opts  Options
	tools map[string]string // tool call id → tool name, to name tool results
	err   error             // the first error of a read without an error return (segs.fail)
}

// segs collects segments; shared by the request and response parsers.
type segs struct {
	b    []byte
	list []Segment
	docs []string
	atts *[]Attachment // the request's attachments (nil: not recorded)
	errp *error        // where fail records the first error (nil: ignored)
}

func (p *reqParser) sg() *segs {
	return &segs{b: p.b, list: p.req.Segments, docs: p.opts.DocumentMarkers, atts: &p.req.Attachments, errp: &p.err}
}

func (s *segs) add(msg, part int, role string, prov Provenance, v val, tool, path string) {
	text := unquoteText(s.b, v)
	if prov == ProvUser && len(s.docs) > 0 && isDocument(text, s.docs) {
		prov = ProvDocument
	}
	s.list = append(s.list, Segment{
		Index: len(s.list), Message: msg, Part: part, Role: role, Provenance: prov,
		Text: text, Loc: Loc{v.s, v.e}, Tool: tool, Path: path,
	})
}

func isDocument(text string, markers []string) bool {
	t := strings.TrimLeft(text, " \t\r\n")
	for _, m := range markers {
		if m != "" && strings.HasPrefix(t, m) {
			return true
		}
	}
	return false
}

// leaves adds every string leaf of v (an object, array or string) as a segment, with its JSON path.
func (s *segs) leaves(v val, msg, part int, role string, prov Provenance, tool, path string) {
	switch v.k {
	case kString:
		s.add(msg, part, role, prov, v, tool, path)
	case kObject, kArray:
		it := v.iter(s.b)
		for i := 0; ; i++ {
			k, x, ok := it.next()
			if !ok {
				return
			}
			if x.k != kString && x.k != kObject && x.k != kArray {
				continue
			}
			var sub string
			if v.k == kObject {
				name := keyName(s.b, k)
				if path == "" {
					sub = name
				} else {
					sub = path + "." + name
				}
			} else {
				sub = path + "[" + strconv.Itoa(i) + "]"
			}
			s.leaves(x, msg, part, role, prov, tool, sub)
		}
	}
}

// text adds v as a segment when it is a string; null is ignored; anything else is an error at path.
func (s *segs) text(v val, msg, part int, role string, prov Provenance, tool string, path func() string) error {
	switch v.k {
	case kString:
		s.add(msg, part, role, prov, v, tool, "")
		return nil
	case kNull:
		return nil
	}
	return fmt.Errorf("%s: expected string, got %s", path(), v.k)
}

// roleStr decodes a role, without allocating for the common ones.
func roleStr(b []byte, v val) string {
	if v.k != kString {
		return ""
	}
	switch string(b[v.s+1 : v.e-1]) {
	case "user":
		return "user"
	case "assistant":
		return "assistant"
	case "system":
		return "system"
	case "tool":
		return "tool"
	case "developer":
		return "developer"
	case "model":
		return "model"
	}
	return unquote(b, v)
}

// getRole returns the role of a message object. With several "role" keys (duplicates, or spellings that differ
// in case, which Go upstreams also read) the least trusted one wins, so a second key cannot promote user text.
func getRole(b []byte, m val) string {
	role := ""
	it := m.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return role
		}
		if m.k == kObject && keyFold(b, k, "role") {
			role = mergeRole(role, roleStr(b, v))
		}
	}
}

func mergeRole(prev, next string) string {
	if prev == "" || trust(roleProv(next)) <= trust(roleProv(prev)) {
		return next
	}
	return prev
}

func trust(p Provenance) int {
	switch p {
	case ProvSystem:
		return 3
	case ProvAssistant:
		return 2
	case ProvUser:
		return 1
	}
	return 0
}

func roleProv(role string) Provenance {
	switch role {
	case "system", "developer":
		return ProvSystem
	case "assistant", "model":
		return ProvAssistant
	case "tool", "function", "ipython":
		return ProvToolResult
	}
	return ProvUser
}

func (p *reqParser) setMax(field string, v val) error {
	n, set, err := p.count(field, v)
	// With several limit fields the smallest one binds.
	if set && (p.req.MaxTokensField == "" || n < p.req.MaxTokens) {
		p.req.MaxTokens, p.req.MaxTokensField = n, field
	}
	return err
}

// count reads a non-negative integer field; null is unset.
func (p *reqParser) count(field string, v val) (n int64, set bool, err error) {
	if v.k == kNull {
		return 0, false, nil
	}
	n, ok := intValue(p.b, v)
	if !ok || n < 0 {
		return 0, false, fmt.Errorf("%s: expected a non-negative integer, got %s", field, p.b[v.s:v.e])
	}
	return n, true, nil
}

// setChoices records a count of completions ("n", "best_of", "candidateCount"); with several the largest binds
// (best_of completions are all generated and billed).
func (p *reqParser) setChoices(field string, v val) error {
	n, _, err := p.count(field, v)
	p.req.Choices = max(p.req.Choices, n)
	return err
}

func (p *reqParser) setBool(dst *bool, field string, v val) error {
	switch v.k {
	case kTrue:
		*dst = true
	case kFalse, kNull:
		*dst = false
	default:
		return fmt.Errorf("%s: expected boolean, got %s", field, v.k)
	}
	return nil
}

func (p *reqParser) setModel(field string, v val) error {
	switch v.k {
	case kString:
		p.req.Model = unquote(p.b, v)
	case kNull:
	default:
		return fmt.Errorf("%s: expected string, got %s", field, v.k)
	}
	return nil
}

func idx(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

// fields iterates the keys of a request object by their canonical name (keyCanon), skipping a folded spelling
// of a scalar field (model, stream, limits...), which only Go upstreams read (FormatOllama). Every format's
// top-level parser walks its body with it.
type keyFields struct {
	p  *reqParser
	it iter
}

func (p *reqParser) fields(r val) keyFields { return keyFields{p: p, it: r.iter(p.b)} }

func (f *keyFields) next() (name string, v val, ok bool) {
	for {
		k, v, ok := f.it.next()
		if !ok {
			return "", v, false
		}
		name := keyCanon(f.p.b, k)
		if f.p.scalarKey(name) && !f.p.exact(k, name) {
			continue
		}
		return name, v, true
	}
}

// scalarKey reports whether a known field holds a scalar the parsers read once (the last exact copy), rather
// than text read from every copy.
func (p *reqParser) scalarKey(name string) bool {
	switch name {
	case "model", "stream", "max_tokens", "max_completion_tokens", "max_output_tokens", "stream_options",
		"options", "generationConfig", "generation_config", "anthropic_version", "n", "best_of":
		return true
	}
	return false
}

// exact reports whether the key token k is spelled exactly name, or the format's upstream folds keys (Ollama is
// Go: encoding/json takes a folded key when no exact one exists).
func (p *reqParser) exact(k val, name string) bool {
	return p.req.Format == FormatOllama || keyIs(p.b, k, name)
}

func emptyArray(b []byte, v val) bool {
	return v.k == kArray && b[skipWS(b, v.s+1)] == ']'
}

// prompt reads a legacy-completions (or llama.cpp, Ollama /api/generate) prompt or suffix: a string, a list of
// strings, or token ids. Token ids (a list of integers, or a list of such lists) cannot be inspected: they are an
// ErrUnreadable error, for the caller's on_error policy.
func (p *reqParser) prompt(v val, name string) error {
	b := p.b
	s := p.sg()
	defer func() { p.req.Segments = s.list }()
	switch v.k {
	case kString:
		s.add(-1, -1, "user", ProvUser, v, "", "")
	case kNull:
	case kArray:
		it := v.iter(b)
		for i := 0; ; i++ {
			_, x, ok := it.next()
			if !ok {
				break
			}
			switch x.k {
			case kString:
				s.add(-1, i, "user", ProvUser, x, "", "")
			case kNumber, kArray:
				if x.k == kArray && emptyArray(b, x) {
					continue
				}
				return fmt.Errorf("%w: %s[%d]: token ids cannot be inspected", ErrUnreadable, name, i)
			case kObject: // llama.cpp multimodal prompt {"prompt_string": ..., "multimodal_data": [...]}
				s.leavesExcept(x, -1, i, "user", ProvUser, "", idx(name, i), "multimodal_data")
				for c := copiesOf(b, x, "multimodal_data"); ; {
					md, ok := c.next()
					if !ok {
						break
					}
					s.binaryList(md, -1, idx(name, i)+".multimodal_data")
				}
			case kNull:
			default:
				return fmt.Errorf("%s[%d]: expected string, got %s", name, i, x.k)
			}
		}
	case kNumber:
		return fmt.Errorf("%w: %s: a token id cannot be inspected", ErrUnreadable, name)
	default:
		return fmt.Errorf("%s: expected string or array, got %s", name, v.k)
	}
	return nil
}

// extra reads the top-level request fields common to the formats that carry client text besides the
// conversation: metadata and end-user identifiers (provenance metadata, for PII filters) and structured-output
// schemas (their descriptions, provenance tool_definition: developer text the model reads).
func (p *reqParser) extra(name string, v val) {
	switch name {
	case "metadata", "user", "safety_identifier", "labels", "prediction":
		s := p.sg()
		s.leaves(v, -1, -1, "", ProvMetadata, "", name)
		p.req.Segments = s.list
	case "response_format", "text_format":
		p.schema(v, name)
	}
}

// schema adds the strings of a response format or JSON schema (descriptions, enum values, titles; see
// toolStrings) as tool_definition segments with their paths.
func (p *reqParser) schema(v val, path string) {
	if v.k != kObject && v.k != kArray {
		return
	}
	s := p.sg()
	s.toolStrings(v, -1, "", path)
	p.req.Segments = s.list
}

// allLeaves adds the string leaves of every copy of member key of object o (see leaves).
func (s *segs) allLeaves(o val, key string, msg, part int, role string, prov Provenance, tool string) {
	for c := copiesOf(s.b, o, key); ; {
		v, ok := c.next()
		if !ok {
			return
		}
		s.leaves(v, msg, part, role, prov, tool, "")
	}
}

// allText adds every copy of member key of object o that is a string.
func (s *segs) allText(o val, key string, msg, part int, role string, prov Provenance, tool, path string) {
	for c := copiesOf(s.b, o, key); ; {
		v, ok := c.next()
		if !ok {
			return
		}
		if v.k == kString {
			s.add(msg, part, role, prov, v, tool, path)
		}
	}
}

// leavesExcept adds the string leaves of v like leaves, skipping the members named in skip (exactly or folded)
// at the top, and at every depth the string values of members that only identify or classify ("type", "id",
// "call_id", "status"...). A data: URL is read as an attachment (attach.go): a textual one is a segment with
// Encoding EncodingDataURL, any other a Request.Attachments entry.
func (s *segs) leavesExcept(v val, msg, part int, role string, prov Provenance, tool, path string, skip ...string) {
	b := s.b
	switch v.k {
	case kString:
		if isDataURL(b, v) {
			s.dataURL(v, msg, part, role, prov, tool, path)
		} else {
			s.add(msg, part, role, prov, v, tool, path)
		}
	case kObject, kArray:
		it := v.iter(b)
	outer:
		for i := 0; ; i++ {
			k, x, ok := it.next()
			if !ok {
				return
			}
			if x.k != kString && x.k != kObject && x.k != kArray {
				continue
			}
			var sub string
			if v.k == kObject {
				for _, n := range skip {
					if keyFold(b, k, n) {
						continue outer
					}
				}
				if x.k == kString && idKey(b, k) {
					continue
				}
				sub = keyName(b, k)
				if path != "" {
					sub = path + "." + sub
				}
			} else {
				sub = idx(path, i)
			}
			s.leavesExcept(x, msg, part, role, prov, tool, sub)
		}
	}
}

// idKeys are members whose string values identify or classify an item rather than carry text.
var idKeys = []string{"type", "id", "call_id", "tool_call_id", "status", "role", "object", "file_id", "tool_use_id",
	"mime_type", "mimeType", "media_type"}
