// Package telemetry formats what a wasmguard filter decided, for logs and metrics, without ever
// carrying prompt text or PII.
//
// A decision log line is one line: the fixed prefix "wasmguard decision " followed by a JSON object.
//
//	d := telemetry.Decision{
//		Filter: "piimask", Rule: "default", Action: "redact", Reason: "pii_masked",
//		RequestID: "9f1c", Score: 1,
//		Findings: []telemetry.Finding{{Type: "email", Segment: 1, Start: 10, End: 27, Score: 1}},
//	}
//	proxywasm.LogInfo(d.String())
//	// wasmguard decision {"filter":"piimask","rule":"default","action":"redact","reason":"pii_masked",
//	//   "request_id":"9f1c","score":1,"findings":[{"type":"email","segment":1,"start":10,"end":27,"score":1}]}
//
// ParseDecision reads such a line back (hostsim replay and eval use it to score filters from their
// logs).
//
// # What may go into a Decision
//
// Only codes, types, offsets, counts and scores. Filter, Rule, Action, Reason, Mode, Signals, Finding.Type
// and Attr.Key are codes: String keeps them to [A-Za-z0-9_.:/-] (anything else becomes '_') and at most
// 64 bytes, so a matched phrase that slips into a signal cannot reach the log verbatim with its spaces
// and punctuation. RequestID comes from a client header: it is JSON-escaped and cut to 128 bytes.
//
// # Metric names
//
// MetricName and Tagged build Envoy-safe metric names: "wasmguard_<filter>_<what>", with tag values
// appended as ".<key>.<value>". Envoy exposes custom wasm metrics under the "wasmcustom." namespace;
// an Envoy stats_tags entry turns the appended pairs into Prometheus labels:
//
//	stats_config:
//	  stats_tags:
//	  - tag_name: reason
//	    regex: '(\.reason\.([a-z0-9_]+))'
//
// Keep tag values to a small fixed set (reason codes, actions, rule names), never per-request values.
package telemetry

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Finding is one thing a filter found, located by code-point offsets [Start, End) in the text of
// segment Segment (see llm.Segment.Index); it never holds the text itself.
type Finding struct {
	Type    string  // "email", "aws_access_key", "role_override" ...
	Segment int     // index of the segment in the parsed request/response
	Start   int     // code-point offset of the first character
	End     int     // code-point offset after the last character
	Score   float64 // 0..1; 1 for deterministic matches
}

// Attr is a named number attached to a decision ("input_tokens": 812, "budget_left": 1188).
type Attr struct {
	Key   string
	Value float64
}

// Decision is what a filter did with one request or response.
type Decision struct {
	Filter    string // "promptguard", "piimask", "tokenbudget", "outputguard"
	Rule      string // the config rule that applied ("default" or a rule name)
	Action    string // "allow", "block", "redact", "annotate", "truncate", ...
	Reason    string // stable snake_case reason code ("prompt_injection_detected")
	Mode      string // "monitor" when the action was only logged; "" (enforce) otherwise
	RequestID string // x-request-id, when known
	Score     float64
	Signals   []string  // codes of what contributed ("ignore_previous", "base64_payload")
	Findings  []Finding // located findings
	Attrs     []Attr    // numbers worth logging (token counts, budgets)
}

// Prefix starts every decision log line.
const Prefix = "wasmguard decision "

const (
	maxCode      = 64
	maxRequestID = 128
)

// String renders the decision as one log line: Prefix + JSON. Empty fields are left out except filter
// and action. Non-finite scores are written as 0.
func (d Decision) String() string {
	b := make([]byte, 0, 160+48*len(d.Findings)+24*len(d.Signals))
	b = append(b, Prefix...)
	b = append(b, `{"filter":`...)
	b = appendCode(b, d.Filter)
	if d.Rule != "" {
		b = append(b, `,"rule":`...)
		b = appendCode(b, d.Rule)
	}
	b = append(b, `,"action":`...)
	b = appendCode(b, d.Action)
	if d.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendCode(b, d.Reason)
	}
	if d.Mode != "" {
		b = append(b, `,"mode":`...)
		b = appendCode(b, d.Mode)
	}
	if d.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendString(b, cut(d.RequestID, maxRequestID))
	}
	if d.Score != 0 && !math.IsNaN(d.Score) && !math.IsInf(d.Score, 0) {
		b = append(b, `,"score":`...)
		b = appendFloat(b, d.Score)
	}
	if len(d.Signals) > 0 {
		b = append(b, `,"signals":[`...)
		for i, s := range d.Signals {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCode(b, s)
		}
		b = append(b, ']')
	}
	if len(d.Findings) > 0 {
		b = append(b, `,"findings":[`...)
		for i, f := range d.Findings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = appendCode(b, f.Type)
			b = append(b, `,"segment":`...)
			b = strconv.AppendInt(b, int64(f.Segment), 10)
			b = append(b, `,"start":`...)
			b = strconv.AppendInt(b, int64(f.Start), 10)
			b = append(b, `,"end":`...)
			b = strconv.AppendInt(b, int64(f.End), 10)
			b = append(b, `,"score":`...)
			b = appendFloat(b, f.Score)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(d.Attrs) > 0 {
		b = append(b, `,"attrs":{`...)
		for i, a := range d.Attrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCode(b, a.Key)
			b = append(b, ':')
			b = appendFloat(b, a.Value)
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	return string(b)
}

func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// SafeCode maps s to the code alphabet [A-Za-z0-9_.:/-] (other bytes become '_') and cuts it to 64
// bytes. Decision.String applies it to every code field.
func SafeCode(s string) string {
	if len(s) > maxCode {
		s = s[:maxCode]
	}
	for i := 0; i < len(s); i++ {
		if !codeByte(s[i]) {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if !codeByte(b[j]) {
					b[j] = '_'
				}
			}
			return string(b)
		}
	}
	return s
}

func codeByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

func appendCode(b []byte, s string) []byte {
	if len(s) > maxCode {
		s = s[:maxCode]
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if codeByte(s[i]) {
			b = append(b, s[i])
		} else {
			b = append(b, '_')
		}
	}
	return append(b, '"')
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; control characters, quotes, backslashes and invalid UTF-8
// are escaped so the line stays one line and valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == 0x2028 || r == 0x2029 {
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
