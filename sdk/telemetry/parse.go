package telemetry

import (
	"strings"

	"github.com/tidwall/gjson"
)

// ParseDecision reads a line written by Decision.String. The prefix may appear anywhere in the line, so
// host log decorations in front of it ("[info] ... wasm log promptguard: ") are skipped. ok is false
// when the line holds no decision or its JSON is invalid or lacks "filter" or "action".
func ParseDecision(line string) (Decision, bool) {
	i := strings.Index(line, Prefix)
	if i < 0 {
		return Decision{}, false
	}
	js := strings.TrimSpace(line[i+len(Prefix):])
	// a host may append text after the JSON (Kong adds ", client: ..., request: ..."); cut at the
	// end of the first complete value
	if end := jsonEnd(js); end > 0 {
		js = js[:end]
	}
	if !gjson.Valid(js) {
		return Decision{}, false
	}
	r := gjson.Parse(js)
	if !r.IsObject() {
		return Decision{}, false
	}
	d := Decision{
		Filter:    r.Get("filter").String(),
		Rule:      r.Get("rule").String(),
		Action:    r.Get("action").String(),
		Reason:    r.Get("reason").String(),
		Mode:      r.Get("mode").String(),
		RequestID: r.Get("request_id").String(),
		Score:     r.Get("score").Float(),
	}
	if d.Filter == "" || d.Action == "" {
		return Decision{}, false
	}
	r.Get("signals").ForEach(func(_, v gjson.Result) bool {
		d.Signals = append(d.Signals, v.String())
		return true
	})
	r.Get("findings").ForEach(func(_, v gjson.Result) bool {
		d.Findings = append(d.Findings, Finding{
			Type:    v.Get("type").String(),
			Segment: int(v.Get("segment").Int()),
			Start:   int(v.Get("start").Int()),
			End:     int(v.Get("end").Int()),
			Score:   v.Get("score").Float(),
		})
		return true
	})
	r.Get("attrs").ForEach(func(k, v gjson.Result) bool {
		d.Attrs = append(d.Attrs, Attr{Key: k.String(), Value: v.Float()})
		return true
	})
	return d, true
}

// jsonEnd returns the length of the JSON object at the start of s (0 when s does not start with '{' or
// the object is not closed).
func jsonEnd(s string) int {
	if s == "" || s[0] != '{' {
		return 0
	}
	depth, inStr, esc := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return 0
}
