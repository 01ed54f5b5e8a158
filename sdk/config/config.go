// Package config reads a filter's JSON plugin configuration with typed, path-qualified validation.
//
// Every wasmguard filter parses its configuration once, in OnPluginStart, through this package. The
// readers check the JSON type before they convert a value (gjson's own .Int() turns "abc" into 0, which
// is how other gateways end up accepting garbage), record every problem instead of stopping at the first
// one, and reject keys nobody read, so a typo in a security setting can never silently disable a check.
//
// A parse function looks like this:
//
//	type Config struct {
//		config.Common
//		Threshold float64
//		Action    string
//		Deny      []string
//	}
//
//	func parseConfig(o config.Obj) Config {
//		return Config{
//			Common:    config.ReadCommon(o),
//			Threshold: o.Float("threshold", 0.8, 0, 1),
//			Action:    o.Enum("action", "block", "block", "redact", "annotate"),
//			Deny:      o.StringList("deny"),
//		}
//	}
//
//	o, err := config.Parse(raw)
//	if err != nil {
//		return err // not JSON, or not an object
//	}
//	cfg := parseConfig(o)
//	if err := o.Err(); err != nil {
//		return err // every problem, sorted by path, one per line
//	}
//
// With per-route rules, ParseRouted does the same for the top level and for every entry of "rules"
// (see ParseRouted and Routed.Select).
//
// # Errors
//
// Each problem reads "<path>: <expectation>; got <what was found>", for example
//
//	threshold: must be a number between 0 and 1; got "high"
//	rules[2].action: must be one of block, redact, annotate; got "hash"
//	rules[0].match.hosts: unknown key
//
// Err returns an *Errors value whose Error() joins the problems with "\n", sorted by path (array indexes
// compare numerically). Issues gives them one by one, for logging each on its own line.
//
// # Notes
//
//   - A key whose value is JSON null is treated as absent: the reader returns its default. Kong fills
//     unset optional fields with null when a filter ships a config schema.
//   - An empty or whitespace-only configuration, and the literal null, mean {}.
//   - Duplicate keys in one object are an error (gjson would silently take the first).
//   - Readers mark the key as used even when its value is wrong, so a bad value is reported once, as a
//     bad value, not also as an unknown key.
//   - All readers are safe on the zero Obj (they return defaults and record nothing).
package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Obj is a JSON object being read at a path ("" for the top level, "match", "rules[2]" ...). It is a
// small handle: copies share the same state, and all Objs of one document share one error list.
type Obj struct{ n *node }

type node struct {
	doc    *document
	path   string
	fields []field
	rule   bool // an overlay built by ParseRouted for one rule
}

type field struct {
	key  string
	val  gjson.Result
	path string // full path of this value; for an overlay, the path where the key was written
	used bool
	rule bool // the key was written inside a rule (not inherited from the top level)
	// moved: ParseRouted copied this field into overlays; it is judged there, not here
	moved bool
}

type document struct {
	issues []Issue
	nodes  []*node
}

// Parse reads raw as a JSON object. Empty or whitespace-only input and the literal null give an empty
// object. The error is for input that is not valid JSON or not an object; problems with individual
// keys are collected by the readers and returned by Err.
func Parse(raw []byte) (Obj, error) {
	d := &document{}
	str := string(raw)
	trimmed := strings.TrimSpace(str)
	if trimmed == "" || trimmed == "null" {
		return d.newNode("", gjson.Result{}), nil
	}
	if !gjson.Valid(trimmed) {
		lead := len(str) - len(strings.TrimLeft(str, " \t\r\n\v\f\u0085\u00a0"))
		return Obj{}, fmt.Errorf("config: must be valid JSON; got %s", invalidJSONAt(str, lead))
	}
	res := gjson.Parse(trimmed)
	if !res.IsObject() {
		return Obj{}, fmt.Errorf("config: must be a JSON object; got %s", describe(res))
	}
	return d.newNode("", res), nil
}

// newNode builds the Obj for res (an object, or the zero Result for an empty one) at path.
func (d *document) newNode(path string, res gjson.Result) Obj {
	n := &node{doc: d, path: path}
	if res.IsObject() {
		var seen map[string]bool // only for large objects; small ones are checked linearly
		res.ForEach(func(k, v gjson.Result) bool {
			key := k.String()
			p := join(path, key)
			dup := false
			if seen != nil {
				dup = seen[key]
			} else {
				for i := range n.fields {
					if n.fields[i].key == key {
						dup = true
						break
					}
				}
			}
			if dup {
				d.add(p, "duplicate key")
				return true
			}
			n.fields = append(n.fields, field{key: key, val: v, path: p})
			if seen == nil && len(n.fields) == 32 {
				seen = make(map[string]bool, 64)
				for i := range n.fields {
					seen[n.fields[i].key] = true
				}
			} else if seen != nil {
				seen[key] = true
			}
			return true
		})
	}
	d.nodes = append(d.nodes, n)
	return Obj{n}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *document) add(path, msg string) {
	d.issues = append(d.issues, Issue{Path: path, Msg: msg})
}

// Path is where this object sits in the document ("" for the top level). For a rule overlay built by
// ParseRouted it is the rule's path ("rules[1]").
func (o Obj) Path() string {
	if o.n == nil {
		return ""
	}
	return o.n.path
}

// InRule reports whether o is a rule overlay built by ParseRouted (false for the top level).
func (o Obj) InRule() bool { return o.n != nil && o.n.rule }

// Has reports whether key is present with a non-null value. It does not mark the key as used, except a
// null value: null means absent, so a parse that only asks Has before reading accepts it too.
func (o Obj) Has(key string) bool {
	f := o.find(key)
	if f != nil && f.val.Type == gjson.Null {
		f.used = true
	}
	return f != nil && f.val.Type != gjson.Null
}

// Keys lists the keys of the object in document order (null values included). It does not mark them as
// used: read each one (for example with Int or Object) to accept it. Useful for map-shaped settings
// such as {"limits": {"alice": 100, "bob": 50}}.
func (o Obj) Keys() []string {
	if o.n == nil {
		return nil
	}
	keys := make([]string, len(o.n.fields))
	for i := range o.n.fields {
		keys[i] = o.n.fields[i].key
	}
	return keys
}

// Errorf records a problem with key (the path is filled in, as for the typed readers) and marks the key
// as used. Use it for checks the readers cannot express, e.g. cross-field rules:
//
//	if min > max {
//		o.Errorf("min_tokens", "must not exceed max_tokens (%d); got %d", max, min)
//	}
//
// With key == "" the problem is recorded against the object itself.
func (o Obj) Errorf(key, format string, args ...any) {
	if o.n == nil {
		return
	}
	path := o.n.path
	if key != "" {
		path = join(o.n.path, key)
		if f := o.find(key); f != nil {
			f.used = true
			path = f.path
		}
	}
	o.n.doc.add(path, fmt.Sprintf(format, args...))
}

// GlobalOnly records an error for each of keys that a rule sets (keys inherited from the top level are
// fine). Call it from a parse function for settings that cannot differ per route, such as a shared
// budget store: "rules[1].store: can only be set at the top level".
func (o Obj) GlobalOnly(keys ...string) {
	if o.n == nil || !o.n.rule {
		return
	}
	for _, k := range keys {
		if f := o.find(k); f != nil && f.rule {
			f.used = true
			o.n.doc.add(f.path, "can only be set at the top level")
		}
	}
}

// Err returns every problem recorded in the document so far, plus one "unknown key" problem for each
// key no reader asked for, sorted by path; nil when there are none. Call it after the parse function has
// read everything. The result is an *Errors.
func (o Obj) Err() error {
	if o.n == nil {
		return nil
	}
	d := o.n.doc
	issues := make([]Issue, 0, len(d.issues)+2)
	issues = append(issues, d.issues...)
	// A value copied into several rule overlays is unknown only when no parse read it anywhere.
	var used map[valueKey]bool
	for _, n := range d.nodes {
		for i := range n.fields {
			f := &n.fields[i]
			if f.used || f.moved {
				continue
			}
			if used == nil {
				used = usedValues(d)
			}
			if !used[keyOf(f)] {
				issues = append(issues, Issue{Path: f.path, Msg: "unknown key"})
			}
		}
	}
	return newErrors(issues)
}

// valueKey identifies one written value of the document: where it was written and where it starts.
type valueKey struct {
	path  string
	index int
}

func keyOf(f *field) valueKey { return valueKey{f.path, f.val.Index} }

func usedValues(d *document) map[valueKey]bool {
	m := map[valueKey]bool{}
	for _, n := range d.nodes {
		for i := range n.fields {
			if f := &n.fields[i]; f.used && !f.moved {
				m[keyOf(f)] = true
			}
		}
	}
	return m
}

func (o Obj) find(key string) *field {
	if o.n == nil {
		return nil
	}
	for i := range o.n.fields {
		if o.n.fields[i].key == key {
			return &o.n.fields[i]
		}
	}
	return nil
}

// get returns the field for key, marked as used, or nil when it is absent or null.
func (o Obj) get(key string) *field {
	f := o.find(key)
	if f == nil {
		return nil
	}
	f.used = true
	if f.val.Type == gjson.Null {
		return nil
	}
	return f
}

func (o Obj) fail(f *field, expect string) {
	o.n.doc.add(f.path, expect+"; got "+describe(f.val))
}

// String reads a string. Absent or null gives def.
func (o Obj) String(key, def string) string {
	f := o.get(key)
	if f == nil {
		return def
	}
	if f.val.Type != gjson.String {
		o.fail(f, "must be a string")
		return def
	}
	return f.val.Str
}

// NonEmptyString reads a string that must not be empty when present. Absent or null gives def.
func (o Obj) NonEmptyString(key, def string) string {
	f := o.get(key)
	if f == nil {
		return def
	}
	if f.val.Type != gjson.String || f.val.Str == "" {
		o.fail(f, "must be a non-empty string")
		return def
	}
	return f.val.Str
}

// Enum reads a string that must be one of allowed (compared exactly). Absent or null gives def.
//
//	action := o.Enum("action", "block", "block", "redact", "annotate")
//	// rules[2].action: must be one of block, redact, annotate; got "hash"
func (o Obj) Enum(key, def string, allowed ...string) string {
	f := o.get(key)
	if f == nil {
		return def
	}
	if f.val.Type == gjson.String {
		for _, a := range allowed {
			if f.val.Str == a {
				return a
			}
		}
	}
	o.fail(f, "must be one of "+strings.Join(allowed, ", "))
	return def
}

// Int reads an integer in [min, max]. JSON numbers with a zero fraction (10.0) are accepted; strings,
// fractions and out-of-range values are errors. Absent or null gives def.
//
//	threshold: must be an integer between 1 and 100; got "high"
func (o Obj) Int(key string, def, min, max int64) int64 {
	f := o.get(key)
	if f == nil {
		return def
	}
	expect := "must be an integer between " + strconv.FormatInt(min, 10) + " and " + strconv.FormatInt(max, 10)
	if f.val.Type != gjson.Number {
		o.fail(f, expect)
		return def
	}
	v, ok := parseInt(f.val.Raw)
	if !ok || v < min || v > max {
		o.fail(f, expect)
		return def
	}
	return v
}

// parseInt parses a JSON number token as an exact int64 (10, -3, 1e3, 10.0).
func parseInt(raw string) (int64, bool) {
	if v, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return v, true
	}
	fl, err := strconv.ParseFloat(raw, 64)
	if err != nil || fl != float64(int64(fl)) || fl < -9.2e18 || fl > 9.2e18 {
		return 0, false
	}
	return int64(fl), true
}

// Float reads a number in [min, max]. Absent or null gives def.
//
//	threshold: must be a number between 0 and 1; got "high"
func (o Obj) Float(key string, def, min, max float64) float64 {
	f := o.get(key)
	if f == nil {
		return def
	}
	if f.val.Type != gjson.Number || f.val.Num < min || f.val.Num > max {
		o.fail(f, "must be a number between "+fmtFloat(min)+" and "+fmtFloat(max))
		return def
	}
	return f.val.Num
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Bool reads true or false (not "true", not 1). Absent or null gives def.
func (o Obj) Bool(key string, def bool) bool {
	f := o.get(key)
	if f == nil {
		return def
	}
	switch f.val.Type {
	case gjson.True:
		return true
	case gjson.False:
		return false
	}
	o.fail(f, "must be true or false")
	return def
}

// Duration reads a Go duration string ("250ms", "1m30s", "24h") in [min, max]. Absent or null gives def.
func (o Obj) Duration(key string, def, min, max time.Duration) time.Duration {
	f := o.get(key)
	if f == nil {
		return def
	}
	expect := "must be a duration such as \"30s\" between " + min.String() + " and " + max.String()
	if f.val.Type != gjson.String {
		o.fail(f, expect)
		return def
	}
	d, err := time.ParseDuration(f.val.Str)
	if err != nil || d < min || d > max {
		o.fail(f, expect)
		return def
	}
	return d
}

// StringList reads an array of strings. Absent or null gives nil; each bad element is reported at its
// own path ("deny[3]: must be a string; got 7").
func (o Obj) StringList(key string) []string {
	f := o.get(key)
	if f == nil {
		return nil
	}
	return o.stringArray(f, "must be an array of strings")
}

// StringOrList reads either one string or an array of strings; a single string gives a one-element
// list. Absent or null gives nil. Match keys use it: "method": "POST" and "method": ["POST", "PUT"].
func (o Obj) StringOrList(key string) []string {
	f := o.get(key)
	if f == nil {
		return nil
	}
	if f.val.Type == gjson.String {
		return []string{f.val.Str}
	}
	return o.stringArray(f, "must be a string or an array of strings")
}

func (o Obj) stringArray(f *field, expect string) []string {
	if !f.val.IsArray() {
		o.fail(f, expect)
		return nil
	}
	var out []string
	i := 0
	f.val.ForEach(func(_, v gjson.Result) bool {
		if v.Type != gjson.String {
			o.n.doc.add(f.path+"["+strconv.Itoa(i)+"]", "must be a string; got "+describe(v))
		} else {
			out = append(out, v.Str)
		}
		i++
		return true
	})
	if out == nil {
		out = []string{}
	}
	return out
}

// EnumList reads an array whose elements must each be one of allowed. Absent or null gives nil; each
// bad element is reported at its own path ("detectors[2]: must be one of email, phone; got \"ssn\"").
// Duplicates are kept as written.
func (o Obj) EnumList(key string, allowed ...string) []string {
	f := o.get(key)
	if f == nil {
		return nil
	}
	if !f.val.IsArray() {
		o.fail(f, "must be an array of "+strings.Join(allowed, ", "))
		return nil
	}
	out := []string{}
	i := 0
	f.val.ForEach(func(_, v gjson.Result) bool {
		ok := false
		if v.Type == gjson.String {
			for _, a := range allowed {
				if v.Str == a {
					out = append(out, a)
					ok = true
					break
				}
			}
		}
		if !ok {
			o.n.doc.add(f.path+"["+strconv.Itoa(i)+"]", "must be one of "+strings.Join(allowed, ", ")+"; got "+describe(v))
		}
		i++
		return true
	})
	return out
}

// StringMap reads an object whose values are all strings ({"x-team": "red"}). Absent or null gives
// nil; a non-string value is reported at its path ("labels.team: must be a string; got 3").
func (o Obj) StringMap(key string) map[string]string {
	f := o.get(key)
	if f == nil {
		return nil
	}
	if !f.val.IsObject() {
		o.fail(f, "must be an object of strings")
		return nil
	}
	out := map[string]string{}
	f.val.ForEach(func(k, v gjson.Result) bool {
		name := k.String()
		p := join(f.path, name)
		if _, dup := out[name]; dup {
			o.n.doc.add(p, "duplicate key")
			return true
		}
		if v.Type != gjson.String {
			o.n.doc.add(p, "must be a string; got "+describe(v))
			return true
		}
		out[name] = v.Str
		return true
	})
	return out
}

// Object reads a nested object. ok is false when the key is absent, null or not an object (the last is
// an error); the returned Obj is then empty but usable, so readers on it return their defaults.
func (o Obj) Object(key string) (Obj, bool) {
	if o.n == nil {
		return Obj{}, false
	}
	f := o.get(key)
	if f == nil {
		return o.n.doc.newNode(join(o.n.path, key), gjson.Result{}), false
	}
	if !f.val.IsObject() {
		o.fail(f, "must be an object")
		return o.n.doc.newNode(f.path, gjson.Result{}), false
	}
	return o.n.doc.newNode(f.path, f.val), true
}

// Array reads an array of objects; element paths are "<key>[i]" ("rules[2]"). Absent or null gives nil.
// Elements that are not objects are reported and skipped.
func (o Obj) Array(key string) []Obj {
	f := o.get(key)
	if f == nil {
		return nil
	}
	if !f.val.IsArray() {
		o.fail(f, "must be an array of objects")
		return nil
	}
	out := []Obj{}
	i := 0
	f.val.ForEach(func(_, v gjson.Result) bool {
		p := f.path + "[" + strconv.Itoa(i) + "]"
		if v.IsObject() {
			out = append(out, o.n.doc.newNode(p, v))
		} else {
			o.n.doc.add(p, "must be an object; got "+describe(v))
		}
		i++
		return true
	})
	return out
}

// Regexp reads a string and compiles it as a Go regular expression (RE2 syntax), once, at configure
// time. Absent or null gives nil. Keep regexps off per-request hot paths inside wasm (~1 MB/s): they
// are for user-supplied patterns only.
func (o Obj) Regexp(key string) *regexp.Regexp {
	f := o.get(key)
	if f == nil {
		return nil
	}
	if f.val.Type != gjson.String {
		o.fail(f, "must be a regular expression string")
		return nil
	}
	re, err := regexp.Compile(f.val.Str)
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		o.fail(f, "must be a valid regular expression ("+msg+")")
		return nil
	}
	return re
}

// Raw returns the raw gjson value of key, marked as used, for shapes the readers do not cover. The
// zero Result means absent or null. Report problems with Errorf.
func (o Obj) Raw(key string) gjson.Result {
	f := o.get(key)
	if f == nil {
		return gjson.Result{}
	}
	return f.val
}

// describe renders a JSON value for an error message: strings quoted, other values as written, cut to
// a readable length.
func describe(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		s := v.Str
		if len(s) > 40 {
			s = cutUTF8(s, 40) + "..."
		}
		return strconv.Quote(s)
	case gjson.JSON:
		if v.IsArray() {
			if len(v.Raw) <= 40 {
				return compact(v.Raw)
			}
			return "an array"
		}
		if len(v.Raw) <= 40 {
			return compact(v.Raw)
		}
		return "an object"
	case gjson.Null:
		return "null"
	}
	raw := strings.TrimSpace(v.Raw)
	if len(raw) > 40 {
		raw = raw[:40] + "..."
	}
	return raw
}

func compact(raw string) string {
	var b strings.Builder
	inStr, esc := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			b.WriteByte(c)
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
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		}
		b.WriteByte(c)
	}
	return b.String()
}

func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// invalidJSONAt describes where raw stops being valid JSON: "invalid JSON at line 3, column 7". The
// scan starts at offset start (after leading white space); lines and columns count from raw's start.
func invalidJSONAt(raw string, start int) string {
	off := start + syntaxErrorOffset(raw[start:])
	line, col := 1, 1
	for i := 0; i < off && i < len(raw); i++ {
		if raw[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return "invalid JSON at line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col)
}

// syntaxErrorOffset returns the offset of the first byte that cannot continue a JSON document (or of
// trailing garbage after one). It runs only on configuration that gjson already rejected.
func syntaxErrorOffset(raw string) int {
	s := scanner{data: raw, err: -1}
	s.value(0)
	if s.err >= 0 {
		return s.err
	}
	s.skipSpace()
	return s.pos
}
