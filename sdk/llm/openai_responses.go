package llm

import (
	"fmt"
	"strings"
)

// OpenAI Responses requests (also Azure OpenAI /openai/responses, and /v1/conversations/{id}/items, whose
// "items" are Responses input items). Upstream decoders (Python, JavaScript) keep the last copy of a duplicate key;
// every copy of a text-bearing field is a segment here.

func (p *reqParser) responses(r val) error {
	b := p.b
	s := p.sg()
	var inputs []val
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
		case "max_output_tokens":
			err = p.setMax("max_output_tokens", v)
		case "instructions":
			err = s.text(v, -1, -1, "system", ProvSystem, "", func() string { return "instructions" })
		case "prompt": // a stored prompt template; its variables are inserted into the prompt as user text
			for vc := copiesOf(b, v, "variables"); ; {
				vars, ok := vc.next()
				if !ok {
					break
				}
				vit := vars.iter(b)
				for {
					k, x, ok := vit.next()
					if !ok || vars.k != kObject {
						break
					}
					vname := "prompt.variables." + keyName(b, k)
					switch x.k {
					case kString:
						s.add(-1, -1, "user", ProvUser, x, "", vname)
					case kObject:
						s.allText(x, "text", -1, -1, "user", ProvUser, "", vname)
					}
				}
			}
		case "input", "items": // "items": /v1/conversations/{id}/items
			inputs = append(inputs, v)
		case "tools":
			p.req.Segments = s.list
			p.toolDefs(v, name)
			s.list = p.req.Segments
		case "text": // {"format": {"type": "json_schema", "schema": {...}}}
			p.req.Segments = s.list
			p.schema(v, "text")
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

// responsesItem reads one input item. Messages and reasoning items by their fields; every other item type by its
// strings: a tool call's (arguments, input, action, operation...) as tool_call, a tool output's (output, results,
// outputs...) as tool_result, so an item type added after this code still has its text read.
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
		for c := copiesOf(b, item, "content"); ; {
			content, ok := c.next()
			if !ok {
				break
			}
			switch content.k {
			case kString:
				s.add(i, -1, role, prov, content, "", "")
			case kArray:
				if err := responsesParts(s, content, i, role, prov, "", "input"); err != nil {
					return err
				}
			case kNull:
			default:
				return fmt.Errorf("input[%d].content: expected string or array, got %s", i, content.k)
			}
		}
		return nil
	case "reasoning":
		for _, key := range []string{"summary", "content"} {
			for c := copiesOf(b, item, key); ; {
				v, ok := c.next()
				if !ok {
					break
				}
				if v.k == kArray {
					if err := responsesParts(s, v, i, "assistant", ProvAssistant, "", "input"); err != nil {
						return err
					}
				}
			}
		}
		return nil
	case "item_reference", "compaction": // an id, or encrypted content
		return nil
	}
	name := getStr(b, item, "name")
	callID := getStr(b, item, "call_id")
	isCall := strings.HasSuffix(typ, "_call") || typ == "mcp_approval_request"
	if isCall && callID != "" && name != "" {
		if p.tools == nil {
			p.tools = map[string]string{}
		}
		p.tools[callID] = name
	}
	tool := name
	if tool == "" {
		tool = p.tools[callID]
	}
	it := item.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return nil
		}
		if idKey(b, k) || v.k == kNull {
			continue
		}
		key := keyCanon(b, k)
		switch {
		case key == "name" || key == "encrypted_content":
		case key == "output" && v.k == kString:
			s.add(i, -1, "tool", ProvToolResult, v, tool, "")
		case key == "output" && v.k == kArray && (typ == "function_call_output" || typ == "custom_tool_call_output"):
			if err := responsesParts(s, v, i, "tool", ProvToolResult, tool, "input"); err != nil {
				return err
			}
		case key == "results": // file_search_call: retrieved chunks
			s.leavesExcept(v, i, -1, "tool", ProvDocument, tool, keyName(b, k))
		case typ == "mcp_list_tools" && key == "tools":
			s.leavesExcept(v, i, -1, "", ProvToolDefinition, "", keyName(b, k))
		case typ == "mcp_approval_response":
			s.leavesExcept(v, i, -1, "user", ProvUser, tool, keyName(b, k))
		case isCall && key != "output" && key != "outputs" && key != "result":
			// arguments, input, action, operation, queries, code: what the model asked the tool to do
			if key == "arguments" || key == "input" {
				s.leaves(v, i, -1, "assistant", ProvToolCall, tool, "")
			} else {
				s.leavesExcept(v, i, -1, "assistant", ProvToolCall, tool, keyName(b, k))
			}
		default: // tool outputs (mcp_call output, code_interpreter outputs, shell stdout/stderr) and unknown items
			s.leavesExcept(v, i, -1, "tool", ProvToolResult, tool, keyName(b, k))
		}
	}
}

// idKey reports whether an object key names one of idKeys, exactly or folded.
func idKey(b []byte, k val) bool {
	for _, n := range idKeys {
		if keyFold(b, k, n) {
			return true
		}
	}
	return false
}

// responsesParts handles input_text / output_text / refusal / summary_text parts. A part's type never hides its
// text: every copy of "text" and "refusal" is read whatever the type; image and file URLs are metadata.
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
		it := part.iter(b)
		for {
			k, v, ok := it.next()
			if !ok {
				break
			}
			switch key := keyCanon(b, k); key {
			case "text", "refusal":
				if err := s.text(v, i, j, role, prov, tool, func() string { return fmt.Sprintf("%s[%d].content[%d].%s", top, i, j, key) }); err != nil {
					return err
				}
			case "image_url", "url", "file_url":
				s.urls(v, i, j, role, docProv(prov), tool, key)
			case "file_id": // input_file, input_image: an uploaded file
				if v.k == kString && v.e-v.s > 2 {
					s.remote(i, j, key, "")
				}
			case "file_data": // input_file: a data: URL
				s.fileData(v, i, j, role, docProv(prov), tool, key)
			case "input_audio":
				s.inputAudio(v, i, j)
			case "filename":
				if v.k == kString {
					s.add(i, j, role, ProvMetadata, v, tool, key)
				}
			}
		}
	}
}

// ---- responses ----

func responsesUsage(b []byte, u val) Usage {
	return openAIUsage(b, u, "input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
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
