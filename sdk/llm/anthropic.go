package llm

import "fmt"

// Anthropic Messages requests (also Bedrock/Vertex bodies with anthropic_version, and each request of a
// /v1/messages/batches body). Anthropic's API servers keep the last copy of a duplicate key; every copy of a
// text-bearing field is a segment here.

func (p *reqParser) anthropic(r val) error {
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
			p.toolDefs(v, name)
			s.list = p.req.Segments
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
			for c := copiesOf(b, m, "content"); ; {
				content, ok := c.next()
				if !ok {
					break
				}
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

// anthropicBlock reads one content block. Its type selects how tool calls, tool results and documents are read,
// but never hides text: every copy of "text" is read whatever the type says.
func (p *reqParser) anthropicBlock(s *segs, blk val, i, j int, role string, prov Provenance, top string) error {
	b := p.b
	path := func(f string) func() string { return func() string { return blockPath(top, i, j) + "." + f } }
	typ := getStr(b, blk, "type")
	switch typ {
	case "thinking":
		for c := copiesOf(b, blk, "thinking"); ; {
			v, ok := c.next()
			if !ok {
				break
			}
			if err := s.text(v, i, j, role, ProvAssistant, "", path("thinking")); err != nil {
				return err
			}
		}
	case "tool_use", "server_tool_use", "mcp_tool_use":
		name := getStr(b, blk, "name")
		if id := getStr(b, blk, "id"); id != "" && name != "" {
			if p.tools == nil {
				p.tools = map[string]string{}
			}
			p.tools[id] = name
		}
		s.allLeaves(blk, "input", i, j, role, ProvToolCall, name)
	case "document", "search_result":
		if err := p.anthropicInner(s, blk, i, j, role, ProvDocument, ""); err != nil {
			return err
		}
	case "image":
		for c := copiesOf(b, blk, "source"); ; {
			src, ok := c.next()
			if !ok {
				break
			}
			if err := s.anthropicSource(src, i, j, role, "", path("source")()); err != nil {
				return err
			}
		}
	default:
		if typ == "tool_result" || typ == "mcp_tool_result" || hasSuffix(typ, "_tool_result") {
			tool := p.tools[getStr(b, blk, "tool_use_id")]
			for c := copiesOf(b, blk, "content"); ; {
				content, ok := c.next()
				if !ok {
					break
				}
				switch content.k {
				case kString:
					s.add(i, j, role, ProvToolResult, content, tool, "")
				case kArray:
					cit := content.iter(b)
					for {
						_, inner, ok := cit.next()
						if !ok {
							break
						}
						innerProv := ProvToolResult
						switch getStr(b, inner, "type") {
						case "document", "search_result", "web_search_result", "web_fetch_result":
							innerProv = ProvDocument
						}
						if err := p.anthropicInner(s, inner, i, j, role, innerProv, tool); err != nil {
							return err
						}
					}
				case kObject: // server tool results: {"type": "…_result", "content": …, "stdout": …}
					s.leavesExcept(content, i, j, role, ProvToolResult, tool, "content", "encrypted_content")
				case kNull:
				default:
					return fmt.Errorf("%s: expected string or array, got %s", path("content")(), content.k)
				}
			}
		}
	}
	for c := copiesOf(b, blk, "text"); ; {
		v, ok := c.next()
		if !ok {
			return nil
		}
		if err := s.text(v, i, j, role, prov, "", path("text")); err != nil {
			return err
		}
	}
}

// anthropicSource reads an image or document source of type url (the URL a metadata segment; a data: URL inline
// content, attach.go) or base64 (of a text media type a document segment with Encoding base64, of any other an
// attachment) or file (a remote attachment).
func (s *segs) anthropicSource(src val, i, j int, role, tool, where string) error {
	switch getStr(s.b, src, "type") {
	case "url":
		s.urls(src, i, j, role, ProvDocument, tool, "source")
	case "base64":
		return s.base64Data(src, getStr(s.b, src, "media_type"), i, j, role, ProvDocument, tool, "source.data", where)
	case "file": // Files API
		s.fileIDs(src, "file_id", i, j, "source.file_id", "")
	}
	return nil
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// anthropicInner extracts the text of a block nested in a tool_result, or of a document/search_result block:
// text blocks, document sources of type text or content, titles and contexts, every copy of each.
func (p *reqParser) anthropicInner(s *segs, blk val, i, j int, role string, prov Provenance, tool string) error {
	b := p.b
	if blk.k != kObject {
		return nil
	}
	where := fmt.Sprintf("messages[%d].content[%d]", i, j)
	if tool != "" {
		where += ".content" // a block inside a tool_result
	}
	switch getStr(b, blk, "type") {
	case "image":
		for c := copiesOf(b, blk, "source"); ; {
			src, ok := c.next()
			if !ok {
				break
			}
			if err := s.anthropicSource(src, i, j, role, tool, where+".source"); err != nil {
				return err
			}
		}
	case "document":
		for _, key := range []string{"title", "context"} {
			s.allText(blk, key, i, j, role, ProvDocument, tool, key)
		}
		for c := copiesOf(b, blk, "source"); ; {
			src, ok := c.next()
			if !ok {
				break
			}
			switch getStr(b, src, "type") {
			case "text":
				s.allText(src, "data", i, j, role, ProvDocument, tool, "source.data")
			case "content":
				for cc := copiesOf(b, src, "content"); ; {
					content, ok := cc.next()
					if !ok {
						break
					}
					p.textBlocks(s, content, i, j, role, ProvDocument, tool)
				}
			default: // url, base64
				if err := s.anthropicSource(src, i, j, role, tool, where+".source"); err != nil {
					return err
				}
			}
		}
	case "search_result", "web_search_result", "web_fetch_result":
		s.allText(blk, "title", i, j, role, ProvDocument, tool, "title")
		for cc := copiesOf(b, blk, "content"); ; {
			content, ok := cc.next()
			if !ok {
				break
			}
			p.textBlocks(s, content, i, j, role, ProvDocument, tool)
		}
		s.allText(blk, "url", i, j, role, ProvMetadata, tool, "url")
		s.allText(blk, "source", i, j, role, ProvMetadata, tool, "source")
	default:
		s.allText(blk, "text", i, j, role, prov, tool, "")
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
			s.allText(blk, "text", i, j, role, prov, tool, "")
		}
	case kObject: // a single document block (web_fetch_result content)
		_ = p.anthropicInner(s, v, i, j, role, prov, tool)
	}
}

// ---- responses ----

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
