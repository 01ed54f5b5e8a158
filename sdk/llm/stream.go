package llm

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// DeltaKind says what a Delta carries.
type DeltaKind int

// Delta kinds.
const (
	// DeltaText is a piece of assistant text (OpenAI delta.content/refusal, Responses output_text/refusal deltas,
	// Anthropic text_delta, Gemini parts[].text, Ollama message.content).
	DeltaText DeltaKind = iota + 1
	// DeltaToolArgs is a piece of tool-call arguments (a JSON fragment for OpenAI/Responses/Anthropic; a whole
	// string leaf of the arguments object, with Path, for Gemini and Ollama).
	DeltaToolArgs
	// DeltaFinish carries the finish/stop reason of a choice.
	DeltaFinish
	// DeltaUsage carries usage; Usage is the stream's usage so far, merged across events.
	DeltaUsage
	// DeltaError is an error reported inside the stream; Text is its message.
	DeltaError
	// DeltaDone marks the end of the stream (OpenAI "[DONE]", Anthropic message_stop, Responses
	// response.completed/incomplete/failed, Ollama done:true). Gemini streams have none: they end at EOF.
	DeltaDone
	// DeltaSnapshot repeats text already streamed as deltas: the Responses API's *.done events and the full
	// output inside response.completed. Counters must ignore it; a filter that rewrites deltas (masking) must
	// rewrite snapshots the same way, or the original text reaches the client anyway. ToolName is set for
	// tool-call arguments.
	DeltaSnapshot
)

func (k DeltaKind) String() string {
	switch k {
	case DeltaText:
		return "text"
	case DeltaToolArgs:
		return "tool_args"
	case DeltaFinish:
		return "finish"
	case DeltaUsage:
		return "usage"
	case DeltaError:
		return "error"
	case DeltaDone:
		return "done"
	case DeltaSnapshot:
		return "snapshot"
	}
	return "unknown"
}

// Delta is one piece of information from a stream event.
type Delta struct {
	Kind   DeltaKind
	Choice int // choice/candidate index (0 where the API has one answer)
	// Index is the content block (Anthropic), output item (Responses), tool call (OpenAI chat) or part (Gemini)
	// the delta belongs to.
	Index int
	// Part is the content part inside a Responses output item (content_index) of a text delta or text snapshot
	// (0 elsewhere): the output_text / refusal parts of one message, which a renderer shows joined.
	Part int
	// Whole marks the snapshots of a finished output item (Responses output_item.done and the output inside
	// response.completed: one snapshot per part), as opposed to one part's own *.done events.
	Whole bool
	Text  string
	// Loc is the string token of Text inside ev.Data (Text, ToolArgs, Snapshot), for RewriteEvent.
	Loc          Loc
	ToolCallID   string
	ToolName     string
	Path         string // JSON path of a string leaf in object arguments (Gemini, Ollama)
	FinishReason string
	Usage        Usage
}

// StreamParser turns the events of one streamed response into Deltas. It keeps per-stream state (tool-call ids
// and names announced in earlier events, usage so far), so use one parser per stream.
//
// For FormatOllama (NDJSON, not SSE), pass each line as sse.Event{Data: line, HasData: true}.
type StreamParser struct {
	f       Format
	usage   Usage
	anth    anthUsage
	tools   map[int]toolInfo
	done    bool
	model   string
	finish  string
	noFast  bool // tests: always use the full parser (no template, no memo)
	memo    fastMemo
	toolGen int // counts setTool calls (parserState)
}

type toolInfo struct{ id, name string }

// NewStreamParser returns a parser for a stream of format f.
func NewStreamParser(f Format) *StreamParser { return &StreamParser{f: f} }

// Usage returns the usage seen so far (Present is false when the stream reported none).
func (p *StreamParser) Usage() Usage { return p.usage }

// Done reports whether the stream's end marker was seen.
func (p *StreamParser) Done() bool { return p.done }

// Model returns the model named by the stream ("" until seen).
func (p *StreamParser) Model() string { return p.model }

// FinishReason returns the last finish reason seen.
func (p *StreamParser) FinishReason() string { return p.finish }

// Parse returns the deltas of one event. Events without data (keep-alive comments, "ping") give none. An event
// whose data is not valid JSON gives an error (the caller decides: pass it through or fail the stream).
func (p *StreamParser) Parse(ev sse.Event) ([]Delta, error) { return p.ParseAppend(nil, ev) }

// ParseAppend is Parse appending the deltas to dst (on error dst is returned unchanged). A stream pass that
// reuses one slice (dst[:0]) with events lent by sse.Decoder.Next allocates nothing for the text-delta events
// that make up most of a stream: the deltas' strings then alias ev.Data and are valid as long as it is.
func (p *StreamParser) ParseAppend(dst []Delta, ev sse.Event) ([]Delta, error) {
	if !ev.HasData && ev.Data == "" {
		return dst, nil
	}
	data := strings.TrimSpace(ev.Data)
	if data == "" {
		return dst, nil
	}
	if data == "[DONE]" {
		p.done = true
		return append(dst, Delta{Kind: DeltaDone}), nil
	}
	if !p.noFast {
		if out, ok := p.memo.hit(dst, ev.Data, ev.Event); ok {
			return out, nil
		}
	}
	st := p.state()
	out, err := p.parse(dst, ev)
	if err == nil && !p.noFast {
		if p.state() == st {
			p.memo.record(ev.Data, ev.Event, out[len(dst):])
		} else {
			p.memo.ok = false
		}
	}
	return out, err
}

func (p *StreamParser) parse(dst []Delta, ev sse.Event) ([]Delta, error) {
	if out, ok := p.fastDelta(dst, ev.Data); ok {
		return out, nil
	}
	// The parse only reads b (every string it returns is a copy), so it may alias the immutable string.
	b := unsafe.Slice(unsafe.StringData(ev.Data), len(ev.Data))
	if err := validate(b); err != nil {
		return dst, fmt.Errorf("parse %s stream event: %w", p.f, err)
	}
	r := root(b)
	if r.k != kObject {
		return dst, fmt.Errorf("parse %s stream event: %w: data is a JSON %s, not an object", p.f, ErrInvalidJSON, r.k)
	}
	out := dst
	switch p.f {
	case FormatOpenAIChat:
		out = p.chat(b, r, out)
	case FormatOpenAIResponses:
		out = p.responses(b, r, ev.Event, out)
	case FormatAnthropic:
		out = p.anthropic(b, r, ev.Event, out)
	case FormatGemini:
		out = p.gemini(b, r, out)
	case FormatOllama:
		out = p.ollama(b, r, out)
	case FormatOpenAIAssistants: // openai_assistants.go
		out = p.assistants(b, r, out)
	default:
		return dst, fmt.Errorf("parse stream event: %w: %q", ErrUnknownFormat, string(p.f))
	}
	for i := len(dst); i < len(out); i++ {
		if out[i].Kind == DeltaFinish {
			p.finish = out[i].FinishReason
		}
	}
	return out, nil
}

func (p *StreamParser) setUsage(u Usage, out []Delta) []Delta {
	if !u.Present {
		return out
	}
	p.usage = u
	return append(out, Delta{Kind: DeltaUsage, Usage: u})
}

func (p *StreamParser) tool(key int) toolInfo { return p.tools[key] }

func (p *StreamParser) setTool(key int, t toolInfo) {
	p.toolGen++
	if p.tools == nil {
		p.tools = map[int]toolInfo{}
	}
	old := p.tools[key]
	if t.id == "" {
		t.id = old.id
	}
	if t.name == "" {
		t.name = old.name
	}
	p.tools[key] = t
}

func strDelta(kind DeltaKind, b []byte, v val) Delta {
	return Delta{Kind: kind, Text: unquote(b, v), Loc: Loc{v.s, v.e}}
}

// ---- OpenAI chat chunks ----

func (p *StreamParser) chat(b []byte, r val, out []Delta) []Delta {
	var f [5]val
	fields(b, r, f[:], "model", "error", "choices", "usage", "x_groq")
	if f[3].k != kObject && f[4].k == kObject { // Groq puts the stream's usage under x_groq
		f[3], _ = get(b, f[4], "usage")
	}
	if f[0].k == kString && f[0].e-f[0].s > 2 && p.model == "" {
		p.model = unquote(b, f[0])
	}
	if msg, ok := errorText(b, f[1]); ok {
		out = append(out, Delta{Kind: DeltaError, Text: msg})
	}
	it := f[2].iter(b)
	for i := 0; ; i++ {
		_, c, ok := it.next()
		if !ok {
			break
		}
		var cf [4]val
		fields(b, c, cf[:], "index", "delta", "text", "finish_reason")
		ci := choiceIndex(b, cf[0], i)
		if cf[1].k == kObject {
			out = p.chatDelta(b, cf[1], ci, out)
		}
		if cf[2].k == kString { // legacy completions stream
			d := strDelta(DeltaText, b, cf[2])
			d.Choice = ci
			out = append(out, d)
		}
		if fr := str(b, cf[3]); fr != "" {
			out = append(out, Delta{Kind: DeltaFinish, Choice: ci, FinishReason: fr})
		}
	}
	if f[3].k == kObject {
		out = p.setUsage(chatUsage(b, f[3]), out)
	}
	return out
}

func (p *StreamParser) chatDelta(b []byte, d val, ci int, out []Delta) []Delta {
	it := d.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return out
		}
		switch keyCanon(b, k) {
		case "content", "refusal":
			if v.k == kString {
				x := strDelta(DeltaText, b, v)
				x.Choice = ci
				out = append(out, x)
			}
		case "tool_calls":
			tit := v.iter(b)
			for j := 0; ; j++ {
				_, tc, ok := tit.next()
				if !ok {
					break
				}
				var tf [3]val
				fields(b, tc, tf[:], "index", "id", "function")
				ti := j
				if n, ok := intValue(b, tf[0]); ok && n >= 0 && n < 1<<16 {
					ti = int(n)
				}
				key := ci<<16 | ti
				var ff [2]val
				fields(b, tf[2], ff[:], "name", "arguments")
				if tf[1].k == kString || ff[0].k == kString {
					p.setTool(key, toolInfo{id: str(b, tf[1]), name: str(b, ff[0])})
				}
				if args := ff[1]; args.k == kString {
					x := strDelta(DeltaToolArgs, b, args)
					x.Choice, x.Index = ci, ti
					t := p.tool(key)
					x.ToolCallID, x.ToolName = t.id, t.name
					out = append(out, x)
				}
			}
		case "function_call":
			key := ci<<16 | 0xFFFF
			p.setTool(key, toolInfo{name: getStr(b, v, "name")})
			if args, ok := get(b, v, "arguments"); ok && args.k == kString {
				x := strDelta(DeltaToolArgs, b, args)
				x.Choice = ci
				x.ToolName = p.tool(key).name
				out = append(out, x)
			}
		}
	}
}

// ---- OpenAI Responses events ----

func (p *StreamParser) responses(b []byte, r val, event string, out []Delta) []Delta {
	const (
		fType = iota
		fOutputIndex
		fItem
		fDelta
		fResponse
		fText
		fRefusal
		fArguments
		fInput
		fPart
		fMessage
		fCode
		fError
		fContentIndex
		nFields
	)
	var f [nFields]val
	fields(b, r, f[:], "type", "output_index", "item", "delta", "response", "text", "refusal", "arguments", "input",
		"part", "message", "code", "error", "content_index")
	typ := str(b, f[fType])
	if typ == "" {
		typ = event
	}
	oi := choiceIndex(b, f[fOutputIndex], 0)
	ci := choiceIndex(b, f[fContentIndex], 0)
	switch typ {
	case "response.created", "response.in_progress", "response.queued":
		if m := getStr(b, f[fResponse], "model"); m != "" {
			p.model = m
		}
	case "response.output_item.added", "response.output_item.done":
		item := f[fItem]
		var itf [3]val
		fields(b, item, itf[:], "type", "call_id", "name")
		switch str(b, itf[0]) {
		case "function_call", "custom_tool_call", "mcp_call":
			p.setTool(oi, toolInfo{id: str(b, itf[1]), name: str(b, itf[2])})
		}
		if typ == "response.output_item.done" {
			out = p.snapshots(b, item, oi, out)
		}
	case "response.output_text.delta", "response.refusal.delta":
		if v := f[fDelta]; v.k == kString {
			d := strDelta(DeltaText, b, v)
			d.Index, d.Part = oi, ci
			out = append(out, d)
		}
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta", "response.mcp_call_arguments.delta":
		if v := f[fDelta]; v.k == kString {
			d := strDelta(DeltaToolArgs, b, v)
			d.Index = oi
			t := p.tool(oi)
			d.ToolCallID, d.ToolName = t.id, t.name
			out = append(out, d)
		}
	case "response.output_text.done", "response.refusal.done", "response.function_call_arguments.done",
		"response.custom_tool_call_input.done", "response.mcp_call_arguments.done", "response.content_part.done",
		"response.content_part.added":
		for _, fi := range [...]int{fText, fRefusal, fArguments, fInput} {
			if v := f[fi]; v.k == kString {
				d := strDelta(DeltaSnapshot, b, v)
				d.Index = oi
				if fi == fArguments || fi == fInput {
					d.ToolName = p.tool(oi).name
				} else {
					d.Part = ci
				}
				out = append(out, d)
			}
		}
		if part := f[fPart]; part.k == kObject {
			var pf [2]val
			fields(b, part, pf[:], "text", "refusal")
			for _, v := range pf {
				if v.k == kString && v.e-v.s > 2 {
					d := strDelta(DeltaSnapshot, b, v)
					d.Index, d.Part = oi, ci
					out = append(out, d)
				}
			}
		}
	case "response.completed", "response.incomplete", "response.failed":
		var rf [6]val
		fields(b, f[fResponse], rf[:], "model", "output", "usage", "error", "status", "incomplete_details")
		if m := str(b, rf[0]); m != "" {
			p.model = m
		}
		if o := rf[1]; o.k == kArray {
			it := o.iter(b)
			for i := 0; ; i++ {
				_, item, ok := it.next()
				if !ok {
					break
				}
				out = p.snapshots(b, item, i, out)
			}
		}
		if rf[2].k == kObject {
			out = p.setUsage(responsesUsage(b, rf[2]), out)
		}
		if msg, ok := errorText(b, rf[3]); ok {
			out = append(out, Delta{Kind: DeltaError, Text: msg})
		}
		reason := str(b, rf[4])
		if x := getStr(b, rf[5], "reason"); x != "" {
			reason = x
		}
		if reason == "" {
			reason = strings.TrimPrefix(typ, "response.")
		}
		out = append(out, Delta{Kind: DeltaFinish, FinishReason: reason})
		p.done = true
		out = append(out, Delta{Kind: DeltaDone})
	case "error":
		msg := str(b, f[fMessage])
		if m, ok := errorText(b, f[fError]); ok && msg == "" {
			msg = m
		}
		if msg == "" {
			msg = str(b, f[fCode])
		}
		out = append(out, Delta{Kind: DeltaError, Text: msg})
	}
	return out
}

// snapshots emits DeltaSnapshot (Whole) for each text or argument string of a finished output item.
func (p *StreamParser) snapshots(b []byte, item val, oi int, out []Delta) []Delta {
	s := segs{b: b}
	if responsesOutputItem(&s, item, oi) != nil {
		return out
	}
	for _, seg := range s.list {
		d := Delta{Kind: DeltaSnapshot, Index: oi, Whole: true, Text: seg.Text, Loc: seg.Loc, Path: seg.Path}
		if seg.Provenance == ProvToolCall {
			d.ToolName = seg.Tool
			d.ToolCallID = p.tool(oi).id
		} else {
			d.Part = max(seg.Part, 0) // (-1: the item's content is one string)
		}
		out = append(out, d)
	}
	return out
}

// ---- Anthropic events ----

func (p *StreamParser) anthropic(b []byte, r val, event string, out []Delta) []Delta {
	var f [7]val
	fields(b, r, f[:], "type", "index", "message", "content_block", "delta", "usage", "error")
	typ := str(b, f[0])
	if typ == "" {
		typ = event
	}
	bi := choiceIndex(b, f[1], 0)
	switch typ {
	case "message_start":
		var mf [2]val
		fields(b, f[2], mf[:], "model", "usage")
		if m := str(b, mf[0]); m != "" {
			p.model = m
		}
		if mf[1].k == kObject {
			p.anth.merge(b, mf[1])
			out = p.setUsage(p.anth.usage(), out)
		}
	case "content_block_start":
		var bf [4]val
		fields(b, f[3], bf[:], "type", "id", "name", "text")
		switch str(b, bf[0]) {
		case "tool_use", "server_tool_use", "mcp_tool_use":
			p.setTool(bi, toolInfo{id: str(b, bf[1]), name: str(b, bf[2])})
		case "text":
			if v := bf[3]; v.k == kString && v.e-v.s > 2 {
				d := strDelta(DeltaText, b, v)
				d.Index = bi
				out = append(out, d)
			}
		}
	case "content_block_delta":
		var df [3]val
		fields(b, f[4], df[:], "type", "text", "partial_json")
		switch str(b, df[0]) {
		case "text_delta":
			if v := df[1]; v.k == kString {
				d := strDelta(DeltaText, b, v)
				d.Index = bi
				out = append(out, d)
			}
		case "input_json_delta":
			if v := df[2]; v.k == kString {
				d := strDelta(DeltaToolArgs, b, v)
				d.Index = bi
				t := p.tool(bi)
				d.ToolCallID, d.ToolName = t.id, t.name
				out = append(out, d)
			}
		}
	case "message_delta":
		if sr := getStr(b, f[4], "stop_reason"); sr != "" {
			out = append(out, Delta{Kind: DeltaFinish, FinishReason: sr})
		}
		if f[5].k == kObject {
			p.anth.merge(b, f[5])
			out = p.setUsage(p.anth.usage(), out)
		}
	case "message_stop":
		p.done = true
		out = append(out, Delta{Kind: DeltaDone})
	case "error":
		msg, _ := errorText(b, f[6])
		out = append(out, Delta{Kind: DeltaError, Text: msg})
	}
	return out
}

// ---- Gemini chunks ----

func (p *StreamParser) gemini(b []byte, r val, out []Delta) []Delta {
	var f [5]val
	fields(b, r, f[:], "modelVersion", "error", "candidates", "usageMetadata", "promptFeedback")
	if br := getStr(b, f[4], "blockReason"); br != "" { // the prompt was blocked: no candidates follow
		out = append(out, Delta{Kind: DeltaFinish, FinishReason: br})
	}
	if f[0].k == kString && p.model == "" {
		p.model = unquote(b, f[0])
	}
	if msg, ok := errorText(b, f[1]); ok {
		out = append(out, Delta{Kind: DeltaError, Text: msg})
	}
	it := f[2].iter(b)
	for i := 0; ; i++ {
		_, c, ok := it.next()
		if !ok {
			break
		}
		var cf [3]val
		fields(b, c, cf[:], "index", "content", "finishReason")
		ci := choiceIndex(b, cf[0], i)
		if parts, ok := get(b, cf[1], "parts"); ok && parts.k == kArray {
			s := segs{b: b}
			if geminiPartList(&s, parts, ci, "model", ProvAssistant, func() string { return idx("candidates", i) }) == nil {
				for _, seg := range s.list {
					d := Delta{Kind: DeltaText, Choice: ci, Index: seg.Part, Text: seg.Text, Loc: seg.Loc}
					if seg.Provenance == ProvToolCall {
						d.Kind, d.ToolName, d.Path = DeltaToolArgs, seg.Tool, seg.Path
					}
					out = append(out, d)
				}
			}
		}
		if fr := str(b, cf[2]); fr != "" {
			out = append(out, Delta{Kind: DeltaFinish, Choice: ci, FinishReason: fr})
		}
	}
	if f[3].k == kObject {
		out = p.setUsage(geminiUsage(b, f[3]), out)
	}
	return out
}

// ---- Ollama NDJSON lines ----

func (p *StreamParser) ollama(b []byte, r val, out []Delta) []Delta {
	if m := getStr(b, r, "model"); m != "" {
		p.model = m
	}
	if msg, ok := errorMessage(b, r); ok {
		out = append(out, Delta{Kind: DeltaError, Text: msg})
	}
	if m, ok := get(b, r, "message"); ok && m.k == kObject {
		s := segs{b: b}
		if chatResponseMessage(&s, m, 0) == nil {
			for _, seg := range s.list {
				d := Delta{Kind: DeltaText, Index: seg.Part, Text: seg.Text, Loc: seg.Loc}
				if seg.Provenance == ProvToolCall {
					d.Kind, d.ToolName, d.Path = DeltaToolArgs, seg.Tool, seg.Path
				}
				out = append(out, d)
			}
		}
	}
	if v, ok := get(b, r, "response"); ok && v.k == kString {
		out = append(out, strDelta(DeltaText, b, v))
	}
	if done, ok := get(b, r, "done"); ok && done.k == kTrue {
		if fr := getStr(b, r, "done_reason"); fr != "" {
			out = append(out, Delta{Kind: DeltaFinish, FinishReason: fr})
		}
		out = p.setUsage(ollamaUsage(b, r), out)
		p.done = true
		out = append(out, Delta{Kind: DeltaDone})
	}
	return out
}

// RewriteEvent returns ev with edits applied to its Data (Locs from Delta.Loc) and Raw re-encoded canonically
// (sse.Encode). When the edits change nothing, ev is returned unchanged, Raw included. Raw is SSE framing: for
// Ollama's NDJSON lines use ApplyEdits on the line instead.
func RewriteEvent(ev sse.Event, edits []Edit) sse.Event {
	if len(edits) == 0 {
		return ev
	}
	data := ApplyEdits([]byte(ev.Data), edits)
	if string(data) == ev.Data {
		return ev
	}
	out := sse.Event{Event: ev.Event, ID: ev.ID, Data: string(data), HasData: true}
	out.Raw = sse.Encode(out)
	return out
}

// IsUsageOnlyChunk reports whether ev is OpenAI chat's final usage chunk (empty choices and a usage object), the
// one that stream_options.include_usage adds. A filter that added include_usage itself (EnsureStreamUsage) drops
// this chunk so the client sees the stream it asked for.
func IsUsageOnlyChunk(ev sse.Event) bool {
	if !strings.Contains(ev.Data, `"usage"`) {
		return false
	}
	b := []byte(ev.Data)
	if validate(b) != nil {
		return false
	}
	r := root(b)
	if r.k != kObject {
		return false
	}
	u, ok := get(b, r, "usage")
	if !ok || u.k != kObject {
		return false
	}
	c, ok := get(b, r, "choices")
	if !ok {
		return true
	}
	if c.k == kNull {
		return true
	}
	it := c.iter(b)
	_, _, any := it.next()
	return c.k == kArray && !any
}
