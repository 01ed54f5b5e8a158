package llm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Edit replaces the JSON string token at Loc with Text, escaped as a JSON string. Encoding is the segment's
// (Segment.Edit sets it): with EncodingBase64 Text is written base64-encoded inside the string token; with
// EncodingDataURL the string token is a data: URL, whose prefix is kept and Text written after it encoded as the
// URL's data was (base64, or percent-encoded); with
// EncodingRaw Loc is a byte range of a text body, replaced by Text as is; with EncodingForm Loc is a
// percent-encoded form value, replaced by Text percent-encoded.
type Edit struct {
	Loc      Loc
	Text     string
	Encoding string
}

// ErrBadEdit is wrapped by ApplyEditsStrict errors.
var ErrBadEdit = errors.New("bad edit")

// ApplyEdits returns body with each edit's string token replaced by its Text, quoted and escaped (quotes,
// backslashes, control characters; invalid UTF-8 becomes U+FFFD), and every other byte unchanged. Edits may come
// in any order. Edits that are out of range, do not cover a string token ("…" in body), or overlap an earlier
// edit are skipped; use ApplyEditsStrict to get an error instead (a masking filter should).
func ApplyEdits(body []byte, edits []Edit) []byte {
	out, _ := applyEdits(body, edits, false)
	return out
}

// ApplyEditsStrict is ApplyEdits that fails on the first bad edit instead of skipping it. Two edits with the same
// Loc are an error too.
func ApplyEditsStrict(body []byte, edits []Edit) ([]byte, error) {
	return applyEdits(body, edits, true)
}

func applyEdits(body []byte, edits []Edit, strict bool) ([]byte, error) {
	if len(edits) == 0 {
		out := make([]byte, len(body))
		copy(out, body)
		return out, nil
	}
	sorted := edits
	byStart := func(a, b Edit) int { return a.Loc.Start - b.Loc.Start }
	if !slices.IsSortedFunc(edits, byStart) {
		sorted = slices.Clone(edits)
		slices.SortStableFunc(sorted, byStart)
	}
	n := len(body)
	for _, e := range sorted {
		n += len(e.Text) + 2 - e.Loc.Len()
	}
	if n < len(body) {
		n = len(body)
	}
	out := make([]byte, 0, n+n/16)
	last, prevEnd := 0, 0
	q := quoteScanner{b: body}
	for _, e := range sorted {
		l := e.Loc
		bad := ""
		textBody := e.Encoding == EncodingRaw || e.Encoding == EncodingForm
		switch {
		case l.Start < prevEnd:
			bad = "overlaps the previous edit"
		case textBody && (l.Start < 0 || l.End > len(body) || l.End < l.Start):
			bad = "out of range"
		case textBody:
		case l.Start < 0 || l.End > len(body) || l.End-l.Start < 2:
			bad = "out of range"
		case !q.opensAt(l.Start) || !isStringToken(body, l):
			bad = "does not cover a string token"
		case e.Encoding != "" && e.Encoding != EncodingBase64 && e.Encoding != EncodingDataURL:
			bad = "unknown encoding " + strconv.Quote(e.Encoding)
		}
		var dataURL string
		if bad == "" && e.Encoding == EncodingDataURL {
			var ok bool
			if dataURL, ok = dataURLEdit(unquote(body, val{s: l.Start, e: l.End, k: kString}), e.Text); !ok {
				bad = "is not a data: URL"
			}
		}
		if bad != "" {
			if strict {
				return nil, fmt.Errorf("%w: [%d,%d) %s", ErrBadEdit, l.Start, l.End, bad)
			}
			continue
		}
		prevEnd = l.End
		switch e.Encoding {
		case EncodingRaw:
			out = append(out, body[last:l.Start]...)
			out = append(out, e.Text...)
			last = l.End
			continue
		case EncodingForm:
			out = append(out, body[last:l.Start]...)
			out = append(out, url.QueryEscape(e.Text)...)
			last = l.End
			continue
		case EncodingBase64:
			out = append(out, body[last:l.Start]...)
			out = appendQuoted(out, base64.StdEncoding.EncodeToString([]byte(e.Text)))
			last = l.End
			continue
		case EncodingDataURL:
			out = append(out, body[last:l.Start]...)
			out = appendQuoted(out, dataURL)
			last = l.End
			continue
		}
		if sameText(body, l, e.Text) {
			continue // an identity edit keeps the original bytes (and escapes)
		}
		out = append(out, body[last:l.Start]...)
		out = appendQuoted(out, e.Text)
		last = l.End
	}
	out = append(out, body[last:]...)
	return out, nil
}

// sameText reports whether the string token at l already decodes to text.
func sameText(body []byte, l Loc, text string) bool {
	raw := body[l.Start+1 : l.End-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == text
	}
	return decodedEquals(raw, text)
}

// decodedEquals reports whether the JSON string content raw (validated, escapes included) decodes to text,
// without allocating.
func decodedEquals(raw []byte, text string) bool {
	var tmp [8]byte
	t := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if t >= len(text) || text[t] != c {
				return false
			}
			t++
			i++
			continue
		}
		if i+1 >= len(raw) {
			return false
		}
		var enc []byte
		switch raw[i+1] {
		case 'b':
			tmp[0], enc = '\b', tmp[:1]
		case 'f':
			tmp[0], enc = '\f', tmp[:1]
		case 'n':
			tmp[0], enc = '\n', tmp[:1]
		case 'r':
			tmp[0], enc = '\r', tmp[:1]
		case 't':
			tmp[0], enc = '\t', tmp[:1]
		case 'u':
			if i+6 > len(raw) {
				return false
			}
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if d := utf16.DecodeRune(r, rune(hex4(raw[i+2:i+6]))); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			enc = utf8.AppendRune(tmp[:0], r)
			if len(text)-t < len(enc) || text[t:t+len(enc)] != string(enc) {
				return false
			}
			t += len(enc)
			continue
		default:
			tmp[0], enc = raw[i+1], tmp[:1]
		}
		if t >= len(text) || text[t] != enc[0] {
			return false
		}
		t++
		i += 2
	}
	return t == len(text)
}

// quoteScanner tells whether a quote opens a string, by tracking string state from the start of the body. A
// lexical check at the location alone cannot: from the closing quote of one string to the opening quote of the
// next (`","`) also reads as a string token. Calls must come with non-decreasing positions; the body is read
// once in all.
type quoteScanner struct {
	b   []byte
	pos int
	in  bool
}

// opensAt reports whether body[s] is a quote that opens a string.
func (q *quoteScanner) opensAt(s int) bool {
	for q.pos < s {
		c := q.b[q.pos]
		if q.in {
			if c == '\\' {
				q.pos += 2
				continue
			}
			if c == '"' {
				q.in = false
			}
		} else if c == '"' {
			q.in = true
		}
		q.pos++
	}
	return q.pos == s && !q.in && q.b[s] == '"'
}

// isStringToken reports whether l is exactly one valid JSON string token in body.
func isStringToken(body []byte, l Loc) bool {
	if body[l.Start] != '"' {
		return false
	}
	e, err := scanString(body[:l.End], l.Start)
	return err == nil && e == l.End
}

// Quote returns s as a JSON string token, escaped as ApplyEdits does.
func Quote(s string) string { return string(appendQuoted(nil, s)) }

// SetMaxTokens sets the output-token limit of a request body of format f to n, leaving every other byte
// unchanged. Existing limit fields are rewritten in place (all of them, so duplicates cannot override the new
// value); when there is none, one is inserted:
//
//	openai_chat       max_completion_tokens for reasoning models (o1, o3, o4, gpt-5…), max_tokens otherwise
//	openai_responses  max_output_tokens
//	anthropic         max_tokens
//	gemini            generationConfig.maxOutputTokens (inside an existing generationConfig when present)
//	ollama            options.num_predict
func SetMaxTokens(f Format, body []byte, n int64) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("set max tokens: negative limit %d", n)
	}
	if err := validate(body); err != nil {
		return nil, fmt.Errorf("set max tokens: %w", err)
	}
	r := root(body)
	if r.k != kObject {
		return nil, fmt.Errorf("set max tokens: %w: body is not an object", ErrInvalidJSON)
	}
	num := strconv.FormatInt(n, 10)
	var reps []replace
	switch f {
	case FormatOpenAIChat, FormatOpenAIResponses, FormatAnthropic:
		fields := map[Format][]string{
			FormatOpenAIChat:      {"max_tokens", "max_completion_tokens"},
			FormatOpenAIResponses: {"max_output_tokens"},
			FormatAnthropic:       {"max_tokens"},
		}[f]
		reps = memberValues(body, r, fields...)
		if len(reps) == 0 {
			field := fields[0]
			if f == FormatOpenAIChat && isReasoningModel(getStr(body, r, "model")) {
				field = "max_completion_tokens"
			}
			reps = []replace{insertMember(body, r, field, num)}
		} else {
			for i := range reps {
				reps[i].text = num
			}
		}
	case FormatGemini:
		cfgs := memberValues(body, r, "generationConfig", "generation_config")
		var objs []val
		for _, c := range cfgs {
			if c.v.k == kObject {
				objs = append(objs, c.v)
			}
		}
		if len(objs) == 0 {
			reps = []replace{insertMember(body, r, "generationConfig", `{"maxOutputTokens":`+num+`}`)}
			break
		}
		for _, o := range objs {
			vals := memberValues(body, o, "maxOutputTokens", "max_output_tokens")
			for i := range vals {
				vals[i].text = num
			}
			if len(vals) == 0 {
				vals = []replace{insertMember(body, o, "maxOutputTokens", num)}
			}
			reps = append(reps, vals...)
		}
	case FormatOllama:
		opts := memberValues(body, r, "options")
		var objs []val
		for _, c := range opts {
			if c.v.k == kObject {
				objs = append(objs, c.v)
			}
		}
		if len(objs) == 0 {
			reps = []replace{insertMember(body, r, "options", `{"num_predict":`+num+`}`)}
			break
		}
		for _, o := range objs {
			vals := memberValues(body, o, "num_predict")
			for i := range vals {
				vals[i].text = num
			}
			if len(vals) == 0 {
				vals = []replace{insertMember(body, o, "num_predict", num)}
			}
			reps = append(reps, vals...)
		}
	default:
		return nil, fmt.Errorf("set max tokens: %w: %q", ErrUnknownFormat, string(f))
	}
	return splice(body, reps), nil
}

func isReasoningModel(model string) bool {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// EnsureStreamUsage makes an OpenAI chat streaming request ask for usage in the stream
// (stream_options.include_usage = true), so a token budget can charge the real usage. It changes nothing and
// returns added=false when the request does not stream or already asks for usage. When added is true the client
// did not ask for the usage chunk: a filter should drop it from the response (see IsUsageOnlyChunk).
func EnsureStreamUsage(body []byte) (out []byte, added bool, err error) {
	if err := validate(body); err != nil {
		return nil, false, fmt.Errorf("ensure stream usage: %w", err)
	}
	r := root(body)
	if r.k != kObject {
		return nil, false, fmt.Errorf("ensure stream usage: %w: body is not an object", ErrInvalidJSON)
	}
	if st, ok := get(body, r, "stream"); !ok || st.k != kTrue {
		return body, false, nil
	}
	so, ok := get(body, r, "stream_options")
	var reps []replace
	switch {
	case !ok || so.k == kNull:
		if ok { // "stream_options": null
			reps = []replace{{v: so, text: `{"include_usage":true}`}}
		} else {
			reps = []replace{insertMember(body, r, "stream_options", `{"include_usage":true}`)}
		}
	case so.k == kObject:
		iu := memberValues(body, so, "include_usage")
		if len(iu) > 0 && iu[len(iu)-1].v.k == kTrue {
			return body, false, nil
		}
		if len(iu) == 0 {
			reps = []replace{insertMember(body, so, "include_usage", "true")}
		} else {
			for i := range iu {
				iu[i].text = "true"
			}
			reps = iu
		}
	default:
		return nil, false, fmt.Errorf("ensure stream usage: stream_options: expected object, got %s", so.k)
	}
	return splice(body, reps), true, nil
}

// replace is a byte-range replacement: v's bytes become text (v.s == v.e for an insertion).
type replace struct {
	v    val
	text string
}

// memberValues returns the values of every member of object o with one of the names, in order.
func memberValues(b []byte, o val, names ...string) []replace {
	var out []replace
	it := o.iter(b)
	for {
		k, v, ok := it.next()
		if !ok {
			return out
		}
		for _, n := range names {
			if keyFold(b, k, n) { // every spelling a Go upstream reads as the field
				out = append(out, replace{v: v})
				break
			}
		}
	}
}

// insertMember returns an insertion of "name":raw as the first member of object o.
func insertMember(b []byte, o val, name, raw string) replace {
	at := o.s + 1
	text := `"` + name + `":` + raw
	if j := skipWS(b, at); b[j] != '}' {
		text += ","
	}
	return replace{v: val{s: at, e: at}, text: text}
}

func splice(b []byte, reps []replace) []byte {
	slices.SortStableFunc(reps, func(a, b replace) int { return a.v.s - b.v.s })
	n := len(b)
	for _, r := range reps {
		n += len(r.text) - (r.v.e - r.v.s)
	}
	out := make([]byte, 0, n)
	last := 0
	for _, r := range reps {
		if r.v.s < last {
			continue
		}
		out = append(out, b[last:r.v.s]...)
		out = append(out, r.text...)
		last = r.v.e
	}
	return append(out, b[last:]...)
}
