package llm

import "fmt"

// OpenAI Chat Completions requests, and the formats that share its message shape: legacy completions ("prompt"),
// llama.cpp /completion, Ollama /api/chat and /api/generate.
//
// Duplicate keys, per upstream: OpenAI's and vLLM's and LiteLLM's servers (Python: json / pydantic) and
// JavaScript servers (JSON.parse) keep the last copy of a key; Ollama and LocalAI (Go encoding/json) keep the
// last copy of a key too, and also take keys that only fold to the field name ("Content"). Every copy of a
// text-bearing field is a segment here; scalars come from the last exact copy (folded ones too for Ollama).

func (p *reqParser) chat(r val) error {
	b := p.b
	if p.req.Format == FormatOllama {
		p.req.Stream = true // Ollama streams unless told otherwise
	}
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
		case "max_tokens", "max_completion_tokens":
			err = p.setMax(name, v)
		case "n", "best_of": // OpenAI, vLLM, LiteLLM (Ollama and llama.cpp have no such field)
			if p.req.Format != FormatOllama {
				err = p.setChoices(name, v)
			}
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
			p.toolDefs(v, name)
		case "prompt", "suffix", "input_prefix", "input_suffix": // legacy completions, llama.cpp, Ollama generate
			err = p.prompt(v, name)
		case "input_extra": // llama.cpp /infill: [{"filename": …, "text": …}]
			s := p.sg()
			s.leavesExcept(v, -1, -1, "user", ProvUser, "", name)
			p.req.Segments = s.list
		case "system", "template", "system_prompt": // Ollama /api/generate, llama.cpp
			s := p.sg()
			err = s.text(v, -1, -1, "system", ProvSystem, "", func() string { return name })
			p.req.Segments = s.list
		case "images", "image_data": // Ollama /api/generate images, llama.cpp image_data: base64 images
			p.sg().binaryList(v, -1, name)
		case "context": // Ollama /api/generate: the token ids of an earlier exchange, which the model reads
			if v.k == kArray && v.e-v.s > 2 && !emptyArray(b, v) {
				err = fmt.Errorf("%w: context: token ids cannot be inspected", ErrUnreadable)
			}
		default:
			p.extra(name, v)
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
	// One pass collects the role (least trusted of every copy) and the members to read; the role may come after
	// the content.
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
			if p.exact(k, "name") {
				name = str(b, v)
			}
			members = append(members, member{k, v})
		case "tool_name": // Ollama tool results
			if p.exact(k, "tool_name") {
				name = str(b, v)
			}
		case "tool_call_id":
			if p.exact(k, "tool_call_id") {
				callID = str(b, v)
			}
		case "content", "tool_calls", "function_call", "refusal", "thinking", "reasoning_content", "audio", "images":
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
		switch key := keyCanon(b, k); key {
		case "name": // the participant's or tool's name: client data the provider receives
			if v.k == kString {
				s.add(i, -1, role, ProvMetadata, v, tool, key)
			}
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
		case "refusal", "thinking", "reasoning_content": // earlier assistant turns (Ollama "thinking")
			if v.k == kString {
				s.add(i, -1, role, prov, v, tool, key)
			}
		case "audio": // an earlier assistant audio turn, referenced by id; a transcript may come along
			for c := copiesOf(b, v, "transcript"); ; {
				x, ok := c.next()
				if !ok {
					break
				}
				if x.k == kString {
					s.add(i, -1, role, prov, x, tool, "audio.transcript")
				}
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
				for fc := copiesOf(b, tc, "function"); ; {
					fn, ok := fc.next()
					if !ok {
						break
					}
					name := getStr(b, fn, "name")
					if id := getStr(b, tc, "id"); id != "" && name != "" {
						if p.tools == nil {
							p.tools = map[string]string{}
						}
						p.tools[id] = name
					}
					s.allLeaves(fn, "arguments", i, j, role, ProvToolCall, name)
				}
				for cc := copiesOf(b, tc, "custom"); ; { // custom tool calls: {"custom":{"name","input"}}
					c, ok := cc.next()
					if !ok {
						break
					}
					s.allLeaves(c, "input", i, j, role, ProvToolCall, getStr(b, c, "name"))
				}
			}
		case "function_call": // legacy
			s.allLeaves(v, "arguments", i, -1, role, ProvToolCall, getStr(b, v, "name"))
		case "images": // Ollama: base64 images of the message
			s.binaryList(v, i, "images")
		}
	}
	return nil
}

// chatPart handles one content part of an OpenAI chat message (also used for response messages). The part's
// type never hides text: every copy of "text" and "refusal" is read whatever the type says (a part typed
// image_url with a "text" member, or one with a second "Type" key, is still read).
func chatPart(s *segs, part val, i, j int, role string, prov Provenance, tool string) error {
	b := s.b
	if part.k == kString { // some OpenAI-compatible servers accept bare strings
		s.add(i, j, role, prov, part, tool, "")
		return nil
	}
	if part.k != kObject {
		return fmt.Errorf("messages[%d].content[%d]: expected object, got %s", i, j, part.k)
	}
	it := part.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return nil
		}
		switch key := keyCanon(b, k); key {
		case "text", "refusal":
			if err := s.text(v, i, j, role, prov, tool, func() string { return fmt.Sprintf("messages[%d].content[%d].%s", i, j, key) }); err != nil {
				return err
			}
		case "image_url": // {"url": "https://…?q=…"} or a bare URL: the URL is client data (PII in query strings)
			s.urls(v, i, j, role, docProv(prov), tool, "image_url")
		case "input_audio": // {"data": base64, "format": "wav"}
			s.inputAudio(v, i, j)
		case "file": // {"file_id"|"file_data", "filename"}
			for c := copiesOf(b, v, "file_data"); ; {
				x, ok := c.next()
				if !ok {
					break
				}
				s.fileData(x, i, j, role, docProv(prov), tool, "file.file_data")
			}
			s.fileIDs(v, "file_id", i, j, "file.file_id", "")
			for c := copiesOf(b, v, "filename"); ; {
				x, ok := c.next()
				if !ok {
					break
				}
				if x.k == kString {
					s.add(i, j, role, ProvMetadata, x, tool, "file.filename")
				}
			}
		}
	}
}

// urls adds a URL (a string, or every copy of "url" in an object) as a metadata segment and a remote attachment.
// A data: URL is inline content (attach.go): a textual one is a segment of provenance prov, any other an
// attachment.
func (s *segs) urls(v val, i, j int, role string, prov Provenance, tool, path string) {
	b := s.b
	add := func(x val, path string) {
		switch {
		case isDataURL(b, x):
			s.dataURL(x, i, j, role, prov, tool, path)
		case x.k == kString:
			s.add(i, j, role, ProvMetadata, x, "", path)
			s.remote(i, j, path, "") // the provider fetches what the model reads
		}
	}
	if v.k == kString {
		add(v, path)
		return
	}
	for c := copiesOf(b, v, "url"); ; {
		x, ok := c.next()
		if !ok {
			return
		}
		add(x, path+".url")
	}
}

func hasPrefixFold(raw []byte, prefix string) bool {
	return len(raw) >= len(prefix) && asciiFoldEq(raw[:len(prefix)], prefix)
}

// ---- responses ----

func chatUsage(b []byte, u val) Usage {
	return openAIUsage(b, u, "prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
}

func chatResponse(s *segs, r val, resp *Response) error {
	b := s.b
	var f [4]val
	fields(b, r, f[:], "model", "error", "usage", "choices")
	resp.Model = str(b, f[0])
	if msg, ok := errorText(b, f[1]); ok {
		resp.Error = msg
	}
	if f[2].present() {
		resp.Usage = chatUsage(b, f[2])
	}
	choices := f[3]
	if !choices.present() || choices.k == kNull {
		return nil
	}
	if choices.k != kArray {
		return fmt.Errorf("choices: expected array, got %s", choices.k)
	}
	it := choices.iter(b)
	for i := 0; ; i++ {
		_, c, ok := it.next()
		if !ok {
			return nil
		}
		if c.k != kObject {
			return fmt.Errorf("choices[%d]: expected object, got %s", i, c.k)
		}
		var cf [4]val
		fields(b, c, cf[:], "index", "finish_reason", "text", "message")
		ci := choiceIndex(b, cf[0], i)
		if i == 0 {
			resp.FinishReason = str(b, cf[1])
		}
		if cf[2].k == kString { // legacy completions
			s.add(ci, -1, "assistant", ProvAssistant, cf[2], "", "")
		}
		if cf[3].k != kObject {
			continue
		}
		if err := chatResponseMessage(s, cf[3], ci); err != nil {
			return err
		}
	}
}

// choiceIndex returns the "index" member when it is a sane non-negative integer, else def.
func choiceIndex(b []byte, v val, def int) int {
	if n, ok := intValue(b, v); ok && n >= 0 && n < 1<<20 {
		return int(n)
	}
	return def
}

func chatResponseMessage(s *segs, m val, ci int) error {
	b := s.b
	role := getStr(b, m, "role")
	if role == "" {
		role = "assistant"
	}
	it := m.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return nil
		}
		switch keyCanon(b, k) {
		case "content":
			switch v.k {
			case kString:
				s.add(ci, -1, role, ProvAssistant, v, "", "")
			case kArray:
				pit := v.iter(b)
				for j := 0; ; j++ {
					_, part, ok := pit.next()
					if !ok {
						break
					}
					if err := chatPart(s, part, ci, j, role, ProvAssistant, ""); err != nil {
						return err
					}
				}
			}
		case "refusal":
			if v.k == kString {
				s.add(ci, -1, role, ProvAssistant, v, "", "")
			}
		case "tool_calls":
			tit := v.iter(b)
			for j := 0; ; j++ {
				_, tc, ok := tit.next()
				if !ok {
					break
				}
				fn, _ := get(b, tc, "function")
				if args, ok := get(b, fn, "arguments"); ok {
					s.leaves(args, ci, j, role, ProvToolCall, getStr(b, fn, "name"), "")
				}
			}
		case "function_call":
			if args, ok := get(b, v, "arguments"); ok {
				s.leaves(args, ci, -1, role, ProvToolCall, getStr(b, v, "name"), "")
			}
		}
	}
}
