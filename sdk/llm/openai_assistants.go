package llm

import "fmt"

// OpenAI Assistants API (/v1/assistants, /v1/threads, /v1/threads/{id}/messages, /v1/threads/{id}/runs,
// /v1/threads/runs, …/submit_tool_outputs). One reader for every body of these paths: the fields that carry text
// are distinct, so reading them all covers every endpoint.
//
//	instructions, additional_instructions   system (assistant or run instructions)
//	description                             system (the assistant's description, read as instructions)
//	messages, thread.messages,              chat-shaped messages (role, content string or parts)
//	additional_messages
//	role + content (top level)              one message (POST /threads/{id}/messages)
//	tool_outputs[].output                   tool_result
//	tools                                   tool_definition; metadata: metadata

func (p *reqParser) assistants(r val) error {
	b := p.b
	s := p.sg()
	var lists []val
	var single bool
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
		case "max_completion_tokens":
			err = p.setMax(name, v)
		case "instructions", "additional_instructions", "description":
			err = s.text(v, -1, -1, "system", ProvSystem, "", func() string { return name })
		case "messages", "additional_messages":
			if v.k != kArray && v.k != kNull {
				return fmt.Errorf("%s: expected array, got %s", name, v.k)
			}
			lists = append(lists, v)
		case "thread":
			lists = appendCopies(b, lists, v, "messages")
			p.req.Segments = s.list
			for _, md := range appendCopies(b, nil, v, "metadata") {
				p.extra("metadata", md)
			}
			s.list = p.req.Segments
		case "content":
			single = true
		case "tool_outputs":
			oit := v.iter(b)
			for j := 0; ; j++ {
				_, o, ok := oit.next()
				if !ok || v.k != kArray {
					break
				}
				tool := p.tools[getStr(b, o, "tool_call_id")]
				s.allLeaves(o, "output", -1, j, "tool", ProvToolResult, tool)
			}
		case "tools":
			p.req.Segments = s.list
			p.toolDefs(v, name)
			s.list = p.req.Segments
		case "name": // the assistant's name
			if v.k == kString {
				s.add(-1, -1, "system", ProvSystem, v, "", "name")
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
	if single { // the body is one message
		if err := p.chatMessage(s, r, n); err != nil {
			return err
		}
		n++
	}
	for _, list := range lists {
		if list.k != kArray {
			continue
		}
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

// assistantsResponse reads an Assistants object (a message, a list of messages, a run): every text.value of a
// message content part is an assistant segment (a user message echoed back is assistant-authored only when its
// role says so).
func assistantsResponse(s *segs, r val, resp *Response) error {
	b := s.b
	resp.Model = getStr(b, r, "model")
	msg := func(m val, i int) {
		role := getStr(b, m, "role")
		if role == "" {
			role = "assistant"
		}
		for _, content := range appendCopies(b, nil, m, "content") {
			cit := content.iter(b)
			for j := 0; ; j++ {
				_, part, ok := cit.next()
				if !ok || content.k != kArray {
					break
				}
				for _, t := range appendCopies(b, nil, part, "text") {
					if t.k == kString {
						s.add(i, j, role, roleProv(role), t, "", "")
					}
					s.allText(t, "value", i, j, role, roleProv(role), "", "text.value")
				}
			}
		}
	}
	if data, ok := get(b, r, "data"); ok && data.k == kArray { // a list
		it := data.iter(b)
		for i := 0; ; i++ {
			_, m, ok := it.next()
			if !ok {
				break
			}
			msg(m, i)
		}
		return nil
	}
	msg(r, 0)
	if u, ok := get(b, r, "usage"); ok && u.k == kObject {
		resp.Usage = chatUsage(b, u)
	}
	resp.FinishReason = getStr(b, r, "status")
	return nil
}

// assistants reads one event of an Assistants run stream: thread.message.delta content text (DeltaText),
// thread.run.step.delta function arguments (DeltaToolArgs), a completed message's text (DeltaSnapshot), and the
// usage and status of a run object.
func (p *StreamParser) assistants(b []byte, r val, out []Delta) []Delta {
	switch getStr(b, r, "object") {
	case "thread.message.delta":
		for _, d := range appendCopies(b, nil, r, "delta") {
			for _, content := range appendCopies(b, nil, d, "content") {
				it := content.iter(b)
				for j := 0; ; j++ {
					_, part, ok := it.next()
					if !ok || content.k != kArray {
						break
					}
					idx := j
					if n, ok := getInt(b, part, "index"); ok && n >= 0 && n < 1<<20 {
						idx = int(n)
					}
					for _, t := range appendCopies(b, nil, part, "text") {
						for _, v := range appendCopies(b, nil, t, "value") {
							if v.k == kString {
								x := strDelta(DeltaText, b, v)
								x.Index = idx
								out = append(out, x)
							}
						}
					}
				}
			}
		}
	case "thread.message":
		s := &segs{b: b}
		resp := &Response{}
		_ = assistantsResponse(s, r, resp)
		for _, sg := range s.list {
			out = append(out, Delta{Kind: DeltaSnapshot, Index: sg.Part, Text: sg.Text, Loc: sg.Loc})
		}
	case "thread.run.step.delta":
		d, _ := get(b, r, "delta")
		sd, _ := get(b, d, "step_details")
		calls, _ := get(b, sd, "tool_calls")
		it := calls.iter(b)
		for {
			_, tc, ok := it.next()
			if !ok || calls.k != kArray {
				break
			}
			fn, _ := get(b, tc, "function")
			for _, v := range appendCopies(b, nil, fn, "arguments") {
				if v.k == kString {
					x := strDelta(DeltaToolArgs, b, v)
					x.ToolCallID, x.ToolName = getStr(b, tc, "id"), getStr(b, fn, "name")
					out = append(out, x)
				}
			}
		}
	case "thread.run":
		if m := getStr(b, r, "model"); m != "" {
			p.model = m
		}
		if u, ok := get(b, r, "usage"); ok && u.k == kObject {
			out = p.setUsage(chatUsage(b, u), out)
		}
		switch st := getStr(b, r, "status"); st {
		case "completed", "incomplete", "failed", "cancelled", "expired":
			out = append(out, Delta{Kind: DeltaFinish, FinishReason: st})
		}
	}
	return out
}
