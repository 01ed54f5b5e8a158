package llm

import (
	"strings"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// The stream fast path: most events of a long answer are one text delta in a fixed shape. fastDelta recognises
// those shapes byte for byte (exact lowercase keys in the providers' order, no white space except after the
// value) and extracts the delta string without the generic validate-then-walk parse. Anything else, including
// the same event with another key order, extra keys, white space or an escape the template does not expect, falls
// back to the full parser; FuzzStreamFastPath checks that both give the same deltas for every input.

// Template opcodes (bytes that never occur in the literal JSON of a template).
const (
	tAnyStr   = 0x01 // any JSON string, ignored
	tDelta    = 0x02 // the delta's JSON string
	tModel    = 0x03 // a JSON string: the model
	tIndex    = 0x04 // a non-negative integer of at most 6 digits: the choice/block/output index
	tAnyInt   = 0x05 // a non-negative integer of at most 18 digits, ignored
	tStrNull  = 0x06 // a JSON string or null, ignored
	tObjStart = 0x07 // marks where the captured object (Gemini usage) starts
	tObjEnd   = 0x08 // marks where it ends
	tPart     = 0x09 // like tIndex: the content part index (Responses content_index)
	tOptBegin = 0x0e // start of an optional group
	tOptEnd   = 0x0f // end of an optional group
)

var (
	fastChat      = "{\"id\":\x01,\"object\":\"chat.completion.chunk\",\"created\":\x05,\"model\":\x03,\x0e\"system_fingerprint\":\x06,\x0f\"choices\":[{\"index\":0,\"delta\":{\"content\":\x02},\"logprobs\":null,\"finish_reason\":null}]\x0e,\"usage\":null\x0f}"
	fastAnthropic = "{\"type\":\"content_block_delta\",\"index\":\x04,\"delta\":{\"type\":\"text_delta\",\"text\":\x02}}"
	fastGemini    = "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \x02}],\"role\": \"model\"}\x0e,\"index\": 0\x0f}]\x0e,\"usageMetadata\": \x07{\"promptTokenCount\": \x05,\"candidatesTokenCount\": \x05,\"totalTokenCount\": \x05}\x08\x0f\x0e,\"modelVersion\": \x03\x0f}"
	fastResponses = "{\"type\":\"response.output_text.delta\",\x0e\"sequence_number\":\x05,\x0f\"item_id\":\x01,\"output_index\":\x04,\"content_index\":\x09,\"delta\":\x02\x0e,\"logprobs\":[]\x0f}"
)

// fastMatch is the result of a template match.
type fastMatch struct {
	delta, model, obj val
	index, part       int
}

// matchTemplate matches data against tpl; ok is false at the first difference.
func matchTemplate(b []byte, tpl string) (m fastMatch, ok bool) {
	i := 0
	optStart, optPos := -1, 0 // inside an optional group: template index of its start, body offset at its start
	var optM fastMatch        // the captures before the group, restored when it does not match
	objStart := 0
	for t := 0; t < len(tpl); t++ {
		c := tpl[t]
		good := true
		switch c {
		case tOptBegin:
			optStart, optPos, optM = t, i, m
			continue
		case tObjStart:
			objStart = i
			continue
		case tObjEnd:
			m.obj = val{s: objStart, e: i, k: kObject}
			continue
		case tOptEnd:
			optStart = -1
			continue
		case tAnyStr, tDelta, tModel, tStrNull:
			if c == tStrNull && hasLit(b, i, "null") {
				i += 4
				break
			}
			if i >= len(b) || b[i] != '"' {
				good = false
				break
			}
			e, err := scanString(b, i)
			if err != nil {
				return m, false // invalid JSON: the full parser reports it
			}
			switch c {
			case tDelta:
				m.delta = val{s: i, e: e, k: kString}
			case tModel:
				m.model = val{s: i, e: e, k: kString}
			}
			i = e
		case tIndex, tPart, tAnyInt:
			max := 6
			if c == tAnyInt {
				max = 18
			}
			n, j := 0, i
			for j < len(b) && b[j] >= '0' && b[j] <= '9' && j-i < max {
				n = n*10 + int(b[j]-'0')
				j++
			}
			if j == i || (b[i] == '0' && j-i > 1) || (j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E')) {
				good = false
				break
			}
			switch c {
			case tIndex:
				m.index = n
			case tPart:
				m.part = n
			}
			i = j
		default:
			// A run of literal bytes up to the next opcode, compared at once.
			n := 1
			for t+n < len(tpl) && tpl[t+n] > tOptEnd {
				n++
			}
			good = len(b)-i >= n && swar.Equal(b[i:i+n], unsafe.Slice(unsafe.StringData(tpl[t:t+n]), n))
			i += n
			t += n - 1
		}
		if !good {
			if optStart < 0 {
				return m, false
			}
			// Skip the optional group: continue after its end with the body where the group began.
			for t < len(tpl) && tpl[t] != tOptEnd {
				t++
			}
			i, optStart, m = optPos, -1, optM
		}
	}
	if skipWS(b, i) != len(b) {
		return m, false
	}
	return m, true
}

// fastDelta appends the deltas of ev.Data when it has one of the fast shapes of the parser's format.
func (p *StreamParser) fastDelta(dst []Delta, data string) ([]Delta, bool) {
	if p.noFast || len(data) < 40 || data[0] != '{' {
		return dst, false
	}
	var tpl string
	switch p.f {
	case FormatOpenAIChat:
		tpl = fastChat
	case FormatAnthropic:
		tpl = fastAnthropic
	case FormatOpenAIResponses:
		tpl = fastResponses
	case FormatGemini:
		tpl = fastGemini
	default:
		return dst, false
	}
	// The template match only reads b, so it may alias the immutable string.
	b := unsafe.Slice(unsafe.StringData(data), len(data))
	m, ok := matchTemplate(b, tpl)
	if !ok {
		return dst, false
	}
	d := Delta{Kind: DeltaText, Loc: Loc{m.delta.s, m.delta.e}}
	if bytesHasEscape(b[m.delta.s+1 : m.delta.e-1]) {
		d.Text = unquote(b, m.delta)
	} else {
		d.Text = data[m.delta.s+1 : m.delta.e-1]
	}
	switch p.f {
	case FormatOpenAIChat:
		if m.model.e-m.model.s > 2 && p.model == "" {
			p.model = unquote(b, m.model)
		}
	case FormatGemini:
		if m.delta.e-m.delta.s == 2 {
			return dst, false // empty text parts: left to the full parser
		}
		if m.model.k == kString && p.model == "" {
			p.model = unquote(b, m.model)
		}
		if m.obj.k == kObject {
			return p.setUsage(geminiUsage(b, m.obj), append(dst, d)), true
		}
	default:
		d.Index, d.Part = m.index, m.part
	}
	return append(dst, d), true
}

// fastMemo remembers the last event that gave exactly one text or tool-arguments delta and changed nothing else
// in the parser (no model, usage, tool, finish or end seen): the bytes before and after that delta's string token,
// and the delta. The next event of a stream usually differs from it only inside that string (same id, model,
// index...): it is recognised by comparing the bytes around the string and scanning the new string, without
// parsing it again. Equal bytes outside one string value make the same JSON apart from that value, and the
// parsers use a text value only as the delta's text (a memo hit needs a non-empty string: an empty one may give
// no delta), so the result is the one a parse would give; FuzzStreamFastPath checks it.
type fastMemo struct {
	around []byte // the bytes before the delta string, then the bytes after it
	pre    int    // len of the bytes before
	event  string // the event's "event:" field (some parsers fall back to it for the type)
	delta  Delta  // the delta, Text and Loc aside
	ok     bool
}

// parserState is what a parse may change besides its deltas.
type parserState struct {
	model, finish string
	usage         Usage
	anth          anthUsage
	done          bool
	tools         int // StreamParser.toolGen
}

func (p *StreamParser) state() parserState {
	return parserState{model: p.model, finish: p.finish, usage: p.usage, anth: p.anth, done: p.done, tools: p.toolGen}
}

// hit appends the delta of data when it has the memo's shape with another non-empty string.
func (f *fastMemo) hit(dst []Delta, data, event string) ([]Delta, bool) {
	if !f.ok || event != f.event {
		return dst, false
	}
	b := unsafe.Slice(unsafe.StringData(data), len(data))
	pre, post := f.around[:f.pre], f.around[f.pre:]
	s, e := len(pre), len(b)-len(post)
	if e-s <= 2 || b[s] != '"' || !swar.Equal(b[:s], pre) || !swar.Equal(b[e:], post) {
		return dst, false
	}
	if end, err := scanString(b, s); err != nil || end != e {
		return dst, false
	}
	d := f.delta
	d.Loc = Loc{s, e}
	if bytesHasEscape(b[s+1 : e-1]) {
		d.Text = unquote(b, val{s: s, e: e, k: kString})
	} else {
		d.Text = data[s+1 : e-1]
	}
	return append(dst, d), true
}

// record remembers the shape of an event whose parse gave ds and left the parser's state as it was.
func (f *fastMemo) record(data, event string, ds []Delta) {
	f.ok = false
	if len(ds) != 1 {
		return
	}
	d := ds[0]
	if (d.Kind != DeltaText && d.Kind != DeltaToolArgs) || d.Loc.End-d.Loc.Start <= 2 || d.Loc.End > len(data) || data[d.Loc.Start] != '"' {
		return
	}
	f.around = append(append(f.around[:0], data[:d.Loc.Start]...), data[d.Loc.End:]...)
	f.pre = d.Loc.Start
	if f.event != event {
		f.event = strings.Clone(event)
	}
	d.Text, d.Loc = "", Loc{}
	f.delta, f.ok = d, true
}

func bytesHasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}
