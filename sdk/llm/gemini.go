package llm

import (
	"fmt"
	"strings"
)

// Gemini generateContent requests (Generative Language API and Vertex AI). Google's front ends decode JSON into
// protobuf messages: a duplicate field keeps its last copy, and both the lowerCamel and the snake_case spelling of
// a field are accepted. Every copy of a text-bearing field is a segment here.

func (p *reqParser) gemini(r val) error {
	b := p.b
	s := p.sg()
	var lists []val
	fs := p.fields(r)
	for {
		name, v, ok := fs.next()
		if !ok {
			break
		}
		var err error
		switch name {
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
			for _, key := range []string{"candidateCount", "candidate_count"} {
				if x, ok := get(b, v, key); ok && err == nil {
					err = p.setChoices("generationConfig."+key, x)
				}
			}
			gc := v
			p.req.Segments = s.list
			for _, key := range []string{"responseSchema", "response_schema", "responseJsonSchema", "response_json_schema"} {
				for c := copiesOf(b, gc, key); ; {
					x, ok := c.next()
					if !ok {
						break
					}
					p.schema(x, "generationConfig."+key)
				}
			}
			s.list = p.req.Segments
		case "systemInstruction", "system_instruction":
			switch v.k {
			case kString:
				s.add(-1, -1, "system", ProvSystem, v, "", "")
			case kObject:
				err = p.geminiParts(s, v, -1, "system", func() string { return "systemInstruction" })
			}
		case "tools":
			p.req.Segments = s.list
			p.toolDefs(v, name)
			s.list = p.req.Segments
		case "contents":
			switch v.k {
			case kArray, kObject:
				lists = append(lists, v)
			case kNull:
			default:
				return fmt.Errorf("contents: expected array, got %s", v.k)
			}
		default:
			p.req.Segments = s.list
			p.extra(name, v)
			s.list = p.req.Segments
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

// geminiParts handles the parts of one Content (or of systemInstruction), every copy of "parts".
func (p *reqParser) geminiParts(s *segs, c val, i int, role string, path func() string) error {
	b := p.b
	prov := roleProv(role)
	if i < 0 {
		prov = ProvSystem
	}
	for pc := copiesOf(b, c, "parts"); ; {
		parts, ok := pc.next()
		if !ok {
			return nil
		}
		if parts.k == kNull {
			continue
		}
		if parts.k != kArray {
			return fmt.Errorf("%s.parts: expected array, got %s", path(), parts.k)
		}
		if err := geminiPartList(s, parts, i, role, prov, path); err != nil {
			return err
		}
	}
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
				s.allLeaves(v, "args", i, j, role, ProvToolCall, getStr(b, v, "name"))
			case "functionResponse", "function_response":
				s.allLeaves(v, "response", i, j, role, ProvToolResult, getStr(b, v, "name"))
			case "executableCode", "executable_code":
				s.allText(v, "code", i, j, role, ProvAssistant, "", "code")
			case "codeExecutionResult", "code_execution_result":
				s.allText(v, "output", i, j, role, ProvToolResult, "", "output")
			case "inlineData", "inline_data":
				if err := s.inlineData(v, i, j, role, docProv(prov), fmt.Sprintf("%s.parts[%d].inlineData", path(), j)); err != nil {
					return err
				}
			case "fileData", "file_data":
				for _, key := range []string{"fileUri", "file_uri"} {
					s.allText(v, key, i, j, role, ProvMetadata, "", "fileData."+key)
				}
				mime := getStr(b, v, "mimeType")
				if m := getStr(b, v, "mime_type"); m != "" {
					mime = m
				}
				for _, key := range []string{"fileUri", "file_uri"} {
					s.fileIDs(v, key, i, j, "fileData."+key, mime)
				}
			}
		}
	}
}

// inlineData reads a Gemini inline blob: of a text MIME type (text/*, JSON, XML, YAML, CSV...) its base64 data
// decoded is a segment with Encoding base64 (its Loc is the base64 string); of another (images, audio, PDFs) an
// attachment. Data that does not decode is ErrUnreadable.
func (s *segs) inlineData(v val, i, j int, role string, prov Provenance, path string) error {
	b := s.b
	mime := ""
	for _, key := range []string{"mimeType", "mime_type"} {
		if m := getStr(b, v, key); m != "" {
			mime = m
		}
	}
	return s.base64Data(v, mime, i, j, role, prov, "", "inlineData.data", path)
}

// isTextMime reports whether a MIME type holds text a model reads as such.
func isTextMime(m string) bool {
	m = mediaType(m)
	if strings.HasPrefix(m, "text/") || strings.HasSuffix(m, "+json") || strings.HasSuffix(m, "+xml") {
		return true
	}
	switch m {
	case "application/json", "application/xml", "application/x-yaml", "application/yaml", "application/javascript",
		"application/x-javascript", "application/x-python", "application/x-python-code", "application/x-sh",
		"application/sql", "application/csv", "application/rtf", "application/x-tex", "application/ld+json",
		"application/x-ndjson", "application/jsonl":
		return true
	}
	return false
}

// toolDefs adds tool definitions from a tools/functions array: every string the model reads in them (names,
// descriptions, parameter schemas' descriptions, enum values, titles...), except schema "type" words, as
// tool_definition segments. OpenAI chat {"type":"function","function":{...}}, Responses and Anthropic tools, legacy
// functions, Gemini functionDeclarations, MCP tool lists.
func (p *reqParser) toolDefs(arr val, top string) {
	if arr.k != kArray {
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
		if t.k != kObject {
			continue
		}
		name := getStr(b, t, "name")
		if fn, ok := get(b, t, "function"); ok && fn.k == kObject {
			name = getStr(b, fn, "name")
		}
		s.toolStrings(t, j, name, idx(top, j))
	}
	p.req.Segments = s.list
}

// toolStrings adds every string leaf of a tool definition except the values of "type" and "$ref"/"format"
// schema keywords, with its path. Gemini function declarations name each function: their leaves carry the name.
func (s *segs) toolStrings(v val, j int, tool, path string) {
	b := s.b
	it := v.iter(b)
	for i := 0; ; i++ {
		k, x, ok := it.next()
		if !ok {
			return
		}
		var sub string
		if v.k == kObject {
			if x.k == kString && (keyIs(b, k, "type") || keyIs(b, k, "$ref") || keyIs(b, k, "format") || keyIs(b, k, "$schema")) {
				continue
			}
			sub = path + "." + keyName(b, k)
		} else {
			sub = idx(path, i)
		}
		switch x.k {
		case kString:
			s.add(-1, j, "", ProvToolDefinition, x, tool, sub)
		case kObject:
			t := tool
			if v.k == kArray { // one tool or function declaration of a list: its name
				if n := getStr(b, x, "name"); n != "" {
					t = n
				}
			}
			s.toolStrings(x, j, t, sub)
		case kArray:
			s.toolStrings(x, j, tool, sub)
		}
	}
}

// ---- responses ----

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
