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
	// ToolDefinitions adds the descriptions in tool definitions (tools[] / functions[] / functionDeclarations[]:
	// the tool's description and every "description" inside its parameter schema) as segments with provenance
	// tool_definition, Message -1, Part the tool's index and Tool its name.
	ToolDefinitions bool
}

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
		return nil, fmt.Errorf("parse request: %w", err)
	}
	r := root(body)
	if r.k != kObject {
		return nil, fmt.Errorf("parse request: %w: body is a JSON %s, not an object", ErrInvalidJSON, r.k)
	}
	if f == FormatUnknown {
		if f = formatFromPath(o.Path); f == FormatUnknown {
			f = formatFromBody(body)
		}
		if f == FormatUnknown {
			return nil, fmt.Errorf("parse request: %w", ErrUnknownFormat)
		}
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
	default:
		return nil, fmt.Errorf("parse request: %w: %q", ErrUnknownFormat, string(f))
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s request: %w", f, inputErr(err))
	}
	if p.req.Model == "" && o.Path != "" {
		p.req.Model = ModelFromPath(o.Path)
	}
	if f == FormatGemini && IsStreamPath(o.Path) {
		p.req.Stream = true
	}
	return p.req, nil
}

type reqParser struct {
	b     []byte
	req   *Request
	opts  Options
	tools map[string]string // tool call id → tool name, to name tool results
}

// segs collects segments; shared by the request and response parsers.
type segs struct {
	b    []byte
	list []Segment
	docs []string
}

func (p *reqParser) sg() *segs {
	return &segs{b: p.b, list: p.req.Segments, docs: p.opts.DocumentMarkers}
}

func (s *segs) add(msg, part int, role string, prov Provenance, v val, tool, path string) {
	text := unquote(s.b, v)
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
		if m.k == kObject && keyIs(b, k, "role") {
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
	if v.k == kNull {
		return nil
	}
	n, ok := intValue(p.b, v)
	if !ok || n < 0 {
		return fmt.Errorf("%s: expected a non-negative integer, got %s", field, p.b[v.s:v.e])
	}
	// With several limit fields the smallest one binds.
	if p.req.MaxTokensField == "" || n < p.req.MaxTokens {
		p.req.MaxTokens, p.req.MaxTokensField = n, field
	}
	return nil
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

// ---- OpenAI Chat Completions (and Ollama /api/chat, which shares the message shape) ----

func (p *reqParser) chat(r val) error {
	b := p.b
	if p.req.Format == FormatOllama {
		p.req.Stream = true // Ollama streams unless told otherwise
	}
	var lists []val
	it := r.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch keyCanon(b, k) {
		case "model":
			err = p.setModel("model", v)
		case "stream":
			err = p.setBool(&p.req.Stream, "stream", v)
		case "max_tokens", "max_completion_tokens":
			err = p.setMax(keyCanon(b, k), v)
		case "stream_options":
			if x, ok := get(b, v, "include_usage"); ok {
				err = p.setBool(&p.req.StreamUsage, "stream_options.include_usage", x)
			}
		case "options": // Ollama
			if x, ok := get(b, v, "num_predict"); ok && p.req.Format == FormatOllama {
				if n, ok := intValue(b, x); ok && n < 0 {
					break // -1: unlimited
				}
				err = p.setMax("options.num_predict", x)
			}
		case "messages":
			if v.k != kArray && v.k != kNull {
				return fmt.Errorf("messages: expected array, got %s", v.k)
			}
			lists = append(lists, v)
		case "tools", "functions":
			p.toolDefs(v)
		case "prompt", "suffix": // legacy completions, Ollama /api/generate
			s := p.sg()
			if v.k == kArray { // a list of prompts
				pit := v.iter(b)
				for {
					_, x, ok := pit.next()
					if !ok {
						break
					}
					if x.k == kString {
						s.add(-1, -1, "user", ProvUser, x, "", "")
					}
				}
			} else if err := s.text(v, -1, -1, "user", ProvUser, "", func() string { return "prompt" }); err != nil {
				return err
			}
			p.req.Segments = s.list
		case "system": // Ollama /api/generate
			if p.req.Format == FormatOllama {
				s := p.sg()
				if err := s.text(v, -1, -1, "system", ProvSystem, "", func() string { return "system" }); err != nil {
					return err
				}
				p.req.Segments = s.list
			}
		}
		if err != nil {
			return err
		}
	}
	s := p.sg()
	n := 0
	for _, list := range lists {
		mit := list.iter(b)
		for {
			_, m, ok := mit.next()
			if !ok {
				break
			}
			if err := p.chatMessage(s, m, n); err != nil {
				return err
			}
			n++
		}
	}
	p.req.Messages = n
	p.req.Segments = s.list
	return nil
}

func (p *reqParser) chatMessage(s *segs, m val, i int) error {
	b := p.b
	if m.k != kObject {
		return fmt.Errorf("messages[%d]: expected object, got %s", i, m.k)
	}
	// One pass collects the role (last wins) and the members to read; the role may come after the content.
	type member struct {
		k, v val
	}
	var buf [4]member
	members := buf[:0]
	var role, name, callID string
	it := m.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		switch keyCanon(b, k) {
		case "role":
			role = mergeRole(role, roleStr(b, v))
		case "name":
			name = str(b, v)
		case "tool_call_id":
			callID = str(b, v)
		case "content", "tool_calls", "function_call":
			members = append(members, member{k, v})
		}
	}
	prov := roleProv(role)
	var tool string
	if prov == ProvToolResult {
		tool = name
		if tool == "" && p.tools != nil {
			tool = p.tools[callID]
		}
	}
	for _, mb := range members {
		k, v := mb.k, mb.v
		switch keyCanon(b, k) {
		case "content":
			switch v.k {
			case kString:
				s.add(i, -1, role, prov, v, tool, "")
			case kArray:
				pit := v.iter(b)
				for j := 0; ; j++ {
					_, part, ok := pit.next()
					if !ok {
						break
					}
					if err := chatPart(s, part, i, j, role, prov, tool); err != nil {
						return err
					}
				}
			case kNull:
			default:
				return fmt.Errorf("messages[%d].content: expected string, array or null, got %s", i, v.k)
			}
		case "tool_calls":
			if v.k != kArray && v.k != kNull {
				return fmt.Errorf("messages[%d].tool_calls: expected array, got %s", i, v.k)
			}
			tit := v.iter(b)
			for j := 0; ; j++ {
				_, tc, ok := tit.next()
				if !ok {
					break
				}
				fn, _ := get(b, tc, "function")
				name := getStr(b, fn, "name")
				if id := getStr(b, tc, "id"); id != "" && name != "" {
					if p.tools == nil {
						p.tools = map[string]string{}
					}
					p.tools[id] = name
				}
				if args, ok := get(b, fn, "arguments"); ok {
					s.leaves(args, i, j, role, ProvToolCall, name, "")
				}
			}
		case "function_call": // legacy
			if args, ok := get(b, v, "arguments"); ok {
				s.leaves(args, i, -1, role, ProvToolCall, getStr(b, v, "name"), "")
			}
		}
	}
	return nil
}

// chatPart handles one content part of an OpenAI chat message (also used for response messages).
func chatPart(s *segs, part val, i, j int, role string, prov Provenance, tool string) error {
	b := s.b
	if part.k == kString { // some OpenAI-compatible servers accept bare strings
		s.add(i, j, role, prov, part, tool, "")
		return nil
	}
	if part.k != kObject {
		return fmt.Errorf("messages[%d].content[%d]: expected object, got %s", i, j, part.k)
	}
	switch getStr(b, part, "type") {
	case "image_url", "input_audio", "file", "image", "audio":
		return nil
	case "refusal":
		if v, ok := get(b, part, "refusal"); ok {
			return s.text(v, i, j, role, prov, tool, func() string { return fmt.Sprintf("messages[%d].content[%d].refusal", i, j) })
		}
	default: // "text" and unknown types that carry text
		if v, ok := get(b, part, "text"); ok {
			return s.text(v, i, j, role, prov, tool, func() string { return fmt.Sprintf("messages[%d].content[%d].text", i, j) })
		}
	}
	return nil
}

// ---- OpenAI Responses ----

func (p *reqParser) responses(r val) error {
	b := p.b
	s := p.sg()
	var inputs []val
	it := r.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch keyCanon(b, k) {
		case "model":
			err = p.setModel("model", v)
		case "stream":
			err = p.setBool(&p.req.Stream, "stream", v)
		case "max_output_tokens":
			err = p.setMax("max_output_tokens", v)
		case "instructions":
			err = s.text(v, -1, -1, "system", ProvSystem, "", func() string { return "instructions" })
		case "prompt": // a stored prompt template; its variables are inserted into the prompt as user text
			vars, _ := get(b, v, "variables")
			it := vars.iter(b)
			for {
				k, x, ok := it.next()
				if !ok {
					break
				}
				name := "prompt.variables." + keyName(b, k)
				switch x.k {
				case kString:
					s.add(-1, -1, "user", ProvUser, x, "", name)
				case kObject:
					if t, ok := get(b, x, "text"); ok && t.k == kString {
						s.add(-1, -1, "user", ProvUser, t, "", name)
					}
				}
			}
		case "input":
			inputs = append(inputs, v)
		case "tools":
			p.req.Segments = s.list
			p.toolDefs(v)
			s.list = p.req.Segments
		}
		if err != nil {
			return err
		}
	}
	n := 0
	for _, in := range inputs {
		switch in.k {
		case kString:
			s.add(n, -1, "user", ProvUser, in, "", "")
			n++
		case kArray:
			iit := in.iter(b)
			for {
				_, item, ok := iit.next()
				if !ok {
					break
				}
				if err := p.responsesItem(s, item, n); err != nil {
					return err
				}
				n++
			}
		case kNull:
		default:
			return fmt.Errorf("input: expected string or array, got %s", in.k)
		}
	}
	p.req.Messages = n
	p.req.Segments = s.list
	return nil
}

func (p *reqParser) responsesItem(s *segs, item val, i int) error {
	b := p.b
	if item.k != kObject {
		return fmt.Errorf("input[%d]: expected object, got %s", i, item.k)
	}
	typ := getStr(b, item, "type")
	switch typ {
	case "", "message":
		role := getRole(b, item)
		prov := roleProv(role)
		content, ok := get(b, item, "content")
		if !ok {
			return nil
		}
		switch content.k {
		case kString:
			s.add(i, -1, role, prov, content, "", "")
		case kArray:
			return responsesParts(s, content, i, role, prov, "", "input")
		case kNull:
		default:
			return fmt.Errorf("input[%d].content: expected string or array, got %s", i, content.k)
		}
	case "function_call", "custom_tool_call", "mcp_call":
		name := getStr(b, item, "name")
		if id := getStr(b, item, "call_id"); id != "" && name != "" {
			if p.tools == nil {
				p.tools = map[string]string{}
			}
			p.tools[id] = name
		}
		for _, key := range []string{"arguments", "input"} {
			if v, ok := get(b, item, key); ok {
				s.leaves(v, i, -1, "assistant", ProvToolCall, name, "")
			}
		}
		if typ == "mcp_call" {
			if v, ok := get(b, item, "output"); ok && v.k == kString {
				s.add(i, -1, "tool", ProvToolResult, v, name, "")
			}
		}
	case "function_call_output", "custom_tool_call_output", "local_shell_call_output", "computer_call_output":
		tool := p.tools[getStr(b, item, "call_id")]
		out, ok := get(b, item, "output")
		if !ok {
			return nil
		}
		switch out.k {
		case kString:
			s.add(i, -1, "tool", ProvToolResult, out, tool, "")
		case kArray:
			return responsesParts(s, out, i, "tool", ProvToolResult, tool, "input")
		}
	case "reasoning":
		for _, key := range []string{"summary", "content"} {
			if v, ok := get(b, item, key); ok && v.k == kArray {
				if err := responsesParts(s, v, i, "assistant", ProvAssistant, "", "input"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// responsesParts handles input_text / output_text / refusal / summary_text parts (images and files skipped).
func responsesParts(s *segs, arr val, i int, role string, prov Provenance, tool, top string) error {
	b := s.b
	pit := arr.iter(b)
	for j := 0; ; j++ {
		_, part, ok := pit.next()
		if !ok {
			return nil
		}
		if part.k != kObject {
			return fmt.Errorf("%s[%d].content[%d]: expected object, got %s", top, i, j, part.k)
		}
		key := "text"
		switch getStr(b, part, "type") {
		case "input_image", "input_file", "input_audio", "image_url":
			continue
		case "refusal":
			key = "refusal"
		}
		if v, ok := get(b, part, key); ok {
			if err := s.text(v, i, j, role, prov, tool, func() string { return fmt.Sprintf("%s[%d].content[%d].%s", top, i, j, key) }); err != nil {
				return err
			}
		}
	}
}

// ---- Anthropic Messages ----

func (p *reqParser) anthropic(r val) error {
	b := p.b
	s := p.sg()
	var lists []val
	it := r.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch keyCanon(b, k) {
		case "model":
			err = p.setModel("model", v)
		case "stream":
			err = p.setBool(&p.req.Stream, "stream", v)
		case "max_tokens":
			err = p.setMax("max_tokens", v)
		case "system":
			switch v.k {
			case kString:
				s.add(-1, -1, "system", ProvSystem, v, "", "")
			case kArray:
				err = p.anthropicBlocks(s, v, -1, "system", ProvSystem, "system")
			case kNull:
			default:
				err = fmt.Errorf("system: expected string or array, got %s", v.k)
			}
		case "messages":
			if v.k != kArray && v.k != kNull {
				return fmt.Errorf("messages: expected array, got %s", v.k)
			}
			lists = append(lists, v)
		case "tools":
			p.req.Segments = s.list
			p.toolDefs(v)
			s.list = p.req.Segments
		}
		if err != nil {
			return err
		}
	}
	n := 0
	for _, list := range lists {
		mit := list.iter(b)
		for {
			_, m, ok := mit.next()
			if !ok {
				break
			}
			if m.k != kObject {
				return fmt.Errorf("messages[%d]: expected object, got %s", n, m.k)
			}
			role := getRole(b, m)
			prov := roleProv(role)
			if content, ok := get(b, m, "content"); ok {
				switch content.k {
				case kString:
					s.add(n, -1, role, prov, content, "", "")
				case kArray:
					if err := p.anthropicBlocks(s, content, n, role, prov, "messages"); err != nil {
						return err
					}
				case kNull:
				default:
					return fmt.Errorf("messages[%d].content: expected string or array, got %s", n, content.k)
				}
			}
			n++
		}
	}
	p.req.Messages = n
	p.req.Segments = s.list
	return nil
}

func (p *reqParser) anthropicBlocks(s *segs, arr val, i int, role string, prov Provenance, top string) error {
	b := p.b
	bit := arr.iter(b)
	for j := 0; ; j++ {
		_, blk, ok := bit.next()
		if !ok {
			return nil
		}
		if blk.k != kObject {
			return fmt.Errorf("%s: expected object, got %s", blockPath(top, i, j), blk.k)
		}
		if err := p.anthropicBlock(s, blk, i, j, role, prov, top); err != nil {
			return err
		}
	}
}

func blockPath(top string, i, j int) string {
	if i < 0 {
		return fmt.Sprintf("%s[%d]", top, j)
	}
	return fmt.Sprintf("%s[%d].content[%d]", top, i, j)
}

func (p *reqParser) anthropicBlock(s *segs, blk val, i, j int, role string, prov Provenance, top string) error {
	b := p.b
	path := func(f string) func() string { return func() string { return blockPath(top, i, j) + "." + f } }
	switch typ := getStr(b, blk, "type"); typ {
	case "image", "redacted_thinking", "container_upload":
		return nil
	case "thinking":
		if v, ok := get(b, blk, "thinking"); ok {
			return s.text(v, i, j, role, ProvAssistant, "", path("thinking"))
		}
	case "tool_use", "server_tool_use", "mcp_tool_use":
		name := getStr(b, blk, "name")
		if id := getStr(b, blk, "id"); id != "" && name != "" {
			if p.tools == nil {
				p.tools = map[string]string{}
			}
			p.tools[id] = name
		}
		if v, ok := get(b, blk, "input"); ok {
			s.leaves(v, i, j, role, ProvToolCall, name, "")
		}
	case "tool_result", "mcp_tool_result":
		tool := p.tools[getStr(b, blk, "tool_use_id")]
		content, ok := get(b, blk, "content")
		if !ok {
			return nil
		}
		switch content.k {
		case kString:
			s.add(i, j, role, ProvToolResult, content, tool, "")
		case kArray:
			cit := content.iter(b)
			for c := 0; ; c++ {
				_, inner, ok := cit.next()
				if !ok {
					break
				}
				innerProv := ProvToolResult
				switch getStr(b, inner, "type") {
				case "document", "search_result":
					innerProv = ProvDocument
				}
				if err := p.anthropicInner(s, inner, i, j, role, innerProv, tool); err != nil {
					return err
				}
			}
		case kNull:
		default:
			return fmt.Errorf("%s: expected string or array, got %s", path("content")(), content.k)
		}
	case "document", "search_result":
		return p.anthropicInner(s, blk, i, j, role, ProvDocument, "")
	default: // "text" and unknown blocks carrying text
		if v, ok := get(b, blk, "text"); ok {
			return s.text(v, i, j, role, prov, "", path("text"))
		}
	}
	return nil
}

// anthropicInner extracts the text of a block nested in a tool_result, or of a document/search_result block:
// text blocks, document sources of type text or content, titles and contexts.
func (p *reqParser) anthropicInner(s *segs, blk val, i, j int, role string, prov Provenance, tool string) error {
	b := p.b
	if blk.k != kObject {
		return nil
	}
	switch getStr(b, blk, "type") {
	case "image":
		return nil
	case "document":
		for _, key := range []string{"title", "context"} {
			if v, ok := get(b, blk, key); ok && v.k == kString {
				s.add(i, j, role, ProvDocument, v, tool, key)
			}
		}
		src, _ := get(b, blk, "source")
		switch getStr(b, src, "type") {
		case "text":
			if v, ok := get(b, src, "data"); ok && v.k == kString {
				s.add(i, j, role, ProvDocument, v, tool, "source.data")
			}
		case "content":
			content, _ := get(b, src, "content")
			p.textBlocks(s, content, i, j, role, ProvDocument, tool)
		}
	case "search_result":
		if v, ok := get(b, blk, "title"); ok && v.k == kString {
			s.add(i, j, role, ProvDocument, v, tool, "title")
		}
		content, _ := get(b, blk, "content")
		p.textBlocks(s, content, i, j, role, ProvDocument, tool)
	default:
		if v, ok := get(b, blk, "text"); ok && v.k == kString {
			s.add(i, j, role, prov, v, tool, "")
		}
	}
	return nil
}

// textBlocks adds a string, or the "text" of each block in an array.
func (p *reqParser) textBlocks(s *segs, v val, i, j int, role string, prov Provenance, tool string) {
	b := p.b
	switch v.k {
	case kString:
		s.add(i, j, role, prov, v, tool, "")
	case kArray:
		it := v.iter(b)
		for {
			_, blk, ok := it.next()
			if !ok {
				return
			}
			if t, ok := get(b, blk, "text"); ok && t.k == kString {
				s.add(i, j, role, prov, t, tool, "")
			}
		}
	}
}

// ---- Gemini generateContent ----

func (p *reqParser) gemini(r val) error {
	b := p.b
	s := p.sg()
	var lists []val
	it := r.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		var err error
		switch keyCanon(b, k) {
		case "model":
			err = p.setModel("model", v)
		case "generationConfig", "generation_config":
			for _, key := range []string{"maxOutputTokens", "max_output_tokens"} {
				if x, ok := get(b, v, key); ok {
					if err = p.setMax("generationConfig."+key, x); err != nil {
						break
					}
				}
			}
		case "systemInstruction", "system_instruction":
			switch v.k {
			case kString:
				s.add(-1, -1, "system", ProvSystem, v, "", "")
			case kObject:
				err = p.geminiParts(s, v, -1, "system", func() string { return "systemInstruction" })
			}
		case "tools":
			p.req.Segments = s.list
			p.toolDefs(v)
			s.list = p.req.Segments
		case "contents":
			switch v.k {
			case kArray, kObject:
				lists = append(lists, v)
			case kNull:
			default:
				return fmt.Errorf("contents: expected array, got %s", v.k)
			}
		}
		if err != nil {
			return err
		}
	}
	n := 0
	for _, list := range lists {
		if list.k == kObject { // a single Content instead of a list
			if err := p.geminiParts(s, list, n, getRole(b, list), func() string { return "contents" }); err != nil {
				return err
			}
			n++
			continue
		}
		cit := list.iter(b)
		for {
			_, c, ok := cit.next()
			if !ok {
				break
			}
			if c.k != kObject {
				return fmt.Errorf("contents[%d]: expected object, got %s", n, c.k)
			}
			role := getRole(b, c)
			if role == "" {
				role = "user"
			}
			if err := p.geminiParts(s, c, n, role, func() string { return idx("contents", n) }); err != nil {
				return err
			}
			n++
		}
	}
	p.req.Messages = n
	p.req.Segments = s.list
	return nil
}

// geminiParts handles the parts of one Content (or of systemInstruction).
func (p *reqParser) geminiParts(s *segs, c val, i int, role string, path func() string) error {
	b := p.b
	prov := roleProv(role)
	if i < 0 {
		prov = ProvSystem
	}
	parts, ok := get(b, c, "parts")
	if !ok || parts.k == kNull {
		return nil
	}
	if parts.k != kArray {
		return fmt.Errorf("%s.parts: expected array, got %s", path(), parts.k)
	}
	return geminiPartList(s, parts, i, role, prov, path)
}

func geminiPartList(s *segs, parts val, i int, role string, prov Provenance, path func() string) error {
	b := s.b
	pit := parts.iter(b)
	for j := 0; ; j++ {
		_, part, ok := pit.next()
		if !ok {
			return nil
		}
		if part.k != kObject {
			return fmt.Errorf("%s.parts[%d]: expected object, got %s", path(), j, part.k)
		}
		it := part.iter(b)
		for {
			k, v, ok := it.next()
			if !ok {
				break
			}
			switch keyCanon(b, k) {
			case "text":
				if err := s.text(v, i, j, role, prov, "", func() string { return fmt.Sprintf("%s.parts[%d].text", path(), j) }); err != nil {
					return err
				}
			case "functionCall", "function_call":
				if args, ok := get(b, v, "args"); ok {
					s.leaves(args, i, j, role, ProvToolCall, getStr(b, v, "name"), "")
				}
			case "functionResponse", "function_response":
				if resp, ok := get(b, v, "response"); ok {
					s.leaves(resp, i, j, role, ProvToolResult, getStr(b, v, "name"), "")
				}
			case "executableCode", "executable_code":
				if code, ok := get(b, v, "code"); ok && code.k == kString {
					s.add(i, j, role, ProvAssistant, code, "", "code")
				}
			case "codeExecutionResult", "code_execution_result":
				if out, ok := get(b, v, "output"); ok && out.k == kString {
					s.add(i, j, role, ProvToolResult, out, "", "output")
				}
			}
		}
	}
}

// toolDefs adds tool-definition descriptions (Options.ToolDefinitions) from a tools/functions array.
func (p *reqParser) toolDefs(arr val) {
	if !p.opts.ToolDefinitions || arr.k != kArray {
		return
	}
	b := p.b
	s := p.sg()
	it := arr.iter(b)
	for j := 0; ; j++ {
		_, t, ok := it.next()
		if !ok {
			break
		}
		var f [3]val
		fields(b, t, f[:], "function", "functionDeclarations", "function_declarations")
		switch {
		case f[0].k == kObject: // OpenAI chat {"type":"function","function":{...}}
			p.toolDef(s, f[0], j)
		case f[1].k == kArray || f[2].k == kArray: // Gemini
			decls := f[1]
			if decls.k != kArray {
				decls = f[2]
			}
			dit := decls.iter(b)
			for {
				_, d, ok := dit.next()
				if !ok {
					break
				}
				p.toolDef(s, d, j)
			}
		default: // Responses, Anthropic, legacy functions: the tool object itself
			p.toolDef(s, t, j)
		}
	}
	p.req.Segments = s.list
}

// toolDef adds the "description" strings of one function definition, at any depth (parameter descriptions too).
func (p *reqParser) toolDef(s *segs, fn val, j int) {
	if fn.k != kObject {
		return
	}
	name := getStr(p.b, fn, "name")
	var walk func(v val, path string)
	walk = func(v val, path string) {
		it := v.iter(p.b)
		for i := 0; ; i++ {
			k, x, ok := it.next()
			if !ok {
				return
			}
			var sub string
			if v.k == kObject {
				kn := keyName(p.b, k)
				if path == "" {
					sub = kn
				} else {
					sub = path + "." + kn
				}
				if x.k == kString && keyIs(p.b, k, "description") {
					s.add(-1, j, "", ProvToolDefinition, x, name, sub)
					continue
				}
			} else {
				sub = path + "[" + strconv.Itoa(i) + "]"
			}
			if x.k == kObject || x.k == kArray {
				walk(x, sub)
			}
		}
	}
	walk(fn, "")
}
