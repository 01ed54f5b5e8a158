package check

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// Schema is a compiled JSON Schema subset, validated over fastjson (no reflection). Supported keywords: type
// (string or array), properties, required, additionalProperties (bool or schema), minProperties, maxProperties,
// items (schema), prefixItems, minItems, maxItems, uniqueItems, enum, const, minLength, maxLength (in code
// points), pattern (Go RE2 syntax, compiled here, once), minimum, maximum, exclusiveMinimum, exclusiveMaximum
// (numbers), multipleOf, anyOf, oneOf, allOf, not, $ref to "#", "#/$defs/<name>" or "#/definitions/<name>", and
// boolean schemas. Annotations (title, description, default, examples, format, $schema, $id, $comment,
// deprecated, readOnly, writeOnly, contentMediaType, contentEncoding) are ignored. Any other keyword is an error,
// so a schema never silently validates less than its author expects.
type Schema struct {
	root *schemaNode
	defs map[string]*schemaNode
}

type schemaNode struct {
	always, never bool // boolean schemas
	types         uint8
	props         map[string]*schemaNode
	propOrder     []string
	required      []string
	additional    *schemaNode
	minProps      int
	maxProps      int
	items         *schemaNode
	prefixItems   []*schemaNode
	minItems      int
	maxItems      int
	unique        bool
	enum          []string // canonical JSON
	constVal      *string
	minLen        int
	maxLen        int
	pattern       *regexp.Regexp
	minimum       *float64
	maximum       *float64
	exclMin       *float64
	exclMax       *float64
	multipleOf    float64
	anyOf         []*schemaNode
	oneOf         []*schemaNode
	allOf         []*schemaNode
	not           *schemaNode
	ref           string
}

const (
	tNull uint8 = 1 << iota
	tBool
	tObject
	tArray
	tNumber
	tInteger
	tString
)

var typeNames = []struct {
	name string
	bit  uint8
}{{"null", tNull}, {"boolean", tBool}, {"object", tObject}, {"array", tArray}, {"number", tNumber}, {"integer", tInteger}, {"string", tString}}

const (
	maxSchemaErrors = 10
	maxSchemaDepth  = 64
)

// CompileSchema parses and compiles a schema. Errors name the schema location as a JSON pointer.
func CompileSchema(raw []byte) (*Schema, error) {
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	s := &Schema{defs: map[string]*schemaNode{}}
	var refs []string
	root, err := s.compile(v, "", &refs)
	if err != nil {
		return nil, err
	}
	s.root = root
	for _, r := range refs {
		if _, ok := s.lookup(r); !ok {
			return nil, fmt.Errorf("$ref %q: no such definition (supported: #, #/$defs/<name>, #/definitions/<name>)", r)
		}
	}
	return s, nil
}

func (s *Schema) lookup(ref string) (*schemaNode, bool) {
	if ref == "#" {
		return s.root, s.root != nil
	}
	n, ok := s.defs[ref]
	return n, ok
}

func ptrEscape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func (s *Schema) compile(v *fastjson.Value, at string, refs *[]string) (*schemaNode, error) {
	loc := at
	if loc == "" {
		loc = "/"
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return &schemaNode{always: true}, nil
	case fastjson.TypeFalse:
		return &schemaNode{never: true}, nil
	case fastjson.TypeObject:
	default:
		return nil, fmt.Errorf("%s: must be an object or a boolean; got %s", loc, v.Type())
	}
	n := &schemaNode{minItems: 0, maxItems: -1, minLen: 0, maxLen: -1, minProps: 0, maxProps: -1}
	obj, _ := v.Object()
	var err error
	sub := func(key string, x *fastjson.Value) *schemaNode {
		if err != nil {
			return nil
		}
		var c *schemaNode
		c, err = s.compile(x, at+"/"+ptrEscape(key), refs)
		return c
	}
	num := func(key string, x *fastjson.Value) *float64 {
		if err != nil {
			return nil
		}
		f, e := x.Float64()
		if e != nil || x.Type() != fastjson.TypeNumber {
			err = fmt.Errorf("%s/%s: must be a number; got %s", at, key, x.Type())
			return nil
		}
		return &f
	}
	count := func(key string, x *fastjson.Value) int {
		if err != nil {
			return 0
		}
		i, e := x.Int()
		if e != nil || i < 0 {
			err = fmt.Errorf("%s/%s: must be a non-negative integer; got %s", at, key, x.String())
			return 0
		}
		return i
	}
	subList := func(key string, x *fastjson.Value) []*schemaNode {
		if err != nil {
			return nil
		}
		arr, e := x.Array()
		if e != nil || len(arr) == 0 {
			err = fmt.Errorf("%s/%s: must be a non-empty array of schemas", at, key)
			return nil
		}
		out := make([]*schemaNode, 0, len(arr))
		for i, a := range arr {
			if err != nil {
				return nil
			}
			var c *schemaNode
			c, err = s.compile(a, at+"/"+key+"/"+strconv.Itoa(i), refs)
			out = append(out, c)
		}
		return out
	}
	obj.Visit(func(kb []byte, x *fastjson.Value) {
		if err != nil {
			return
		}
		key := string(kb)
		switch key {
		case "type":
			n.types, err = parseTypes(x, at)
		case "properties":
			po, e := x.Object()
			if e != nil {
				err = fmt.Errorf("%s/properties: must be an object", at)
				return
			}
			n.props = map[string]*schemaNode{}
			po.Visit(func(pk []byte, pv *fastjson.Value) {
				if err != nil {
					return
				}
				var c *schemaNode
				c, err = s.compile(pv, at+"/properties/"+ptrEscape(string(pk)), refs)
				n.props[string(pk)] = c
				n.propOrder = append(n.propOrder, string(pk))
			})
		case "required":
			arr, e := x.Array()
			if e != nil {
				err = fmt.Errorf("%s/required: must be an array of strings", at)
				return
			}
			for i, a := range arr {
				b, e := a.StringBytes()
				if e != nil {
					err = fmt.Errorf("%s/required/%d: must be a string; got %s", at, i, a.Type())
					return
				}
				n.required = append(n.required, string(b))
			}
		case "additionalProperties":
			n.additional = sub(key, x)
		case "minProperties":
			n.minProps = count(key, x)
		case "maxProperties":
			n.maxProps = count(key, x)
		case "items":
			n.items = sub(key, x)
		case "prefixItems":
			n.prefixItems = subList(key, x)
		case "minItems":
			n.minItems = count(key, x)
		case "maxItems":
			n.maxItems = count(key, x)
		case "uniqueItems":
			n.unique = x.Type() == fastjson.TypeTrue
		case "enum":
			arr, e := x.Array()
			if e != nil {
				err = fmt.Errorf("%s/enum: must be an array", at)
				return
			}
			for _, a := range arr {
				n.enum = append(n.enum, canonicalJSON(a))
			}
		case "const":
			c := canonicalJSON(x)
			n.constVal = &c
		case "minLength":
			n.minLen = count(key, x)
		case "maxLength":
			n.maxLen = count(key, x)
		case "pattern":
			b, e := x.StringBytes()
			if e != nil {
				err = fmt.Errorf("%s/pattern: must be a string; got %s", at, x.Type())
				return
			}
			n.pattern, e = regexp.Compile(string(b))
			if e != nil {
				err = fmt.Errorf("%s/pattern: %w", at, e)
			}
		case "minimum":
			n.minimum = num(key, x)
		case "maximum":
			n.maximum = num(key, x)
		case "exclusiveMinimum":
			n.exclMin = num(key, x)
		case "exclusiveMaximum":
			n.exclMax = num(key, x)
		case "multipleOf":
			if f := num(key, x); f != nil {
				if *f <= 0 {
					err = fmt.Errorf("%s/multipleOf: must be > 0", at)
				}
				n.multipleOf = *f
			}
		case "anyOf":
			n.anyOf = subList(key, x)
		case "oneOf":
			n.oneOf = subList(key, x)
		case "allOf":
			n.allOf = subList(key, x)
		case "not":
			n.not = sub(key, x)
		case "$ref":
			b, e := x.StringBytes()
			if e != nil {
				err = fmt.Errorf("%s/$ref: must be a string", at)
				return
			}
			n.ref = string(b)
			*refs = append(*refs, n.ref)
		case "$defs", "definitions":
			do, e := x.Object()
			if e != nil {
				err = fmt.Errorf("%s/%s: must be an object", at, key)
				return
			}
			do.Visit(func(dk []byte, dv *fastjson.Value) {
				if err != nil {
					return
				}
				var c *schemaNode
				c, err = s.compile(dv, at+"/"+key+"/"+ptrEscape(string(dk)), refs)
				if at == "" {
					s.defs["#/"+key+"/"+ptrEscape(string(dk))] = c
				}
			})
		case "title", "description", "default", "examples", "format", "$schema", "$id", "$comment", "deprecated",
			"readOnly", "writeOnly", "contentMediaType", "contentEncoding", "strict", "name":
			// annotations
		default:
			err = fmt.Errorf("%s/%s: keyword not supported by outputguard's JSON Schema subset", at, key)
		}
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

func parseTypes(x *fastjson.Value, at string) (uint8, error) {
	one := func(v *fastjson.Value) (uint8, error) {
		b, err := v.StringBytes()
		if err == nil {
			for _, tn := range typeNames {
				if tn.name == string(b) {
					return tn.bit, nil
				}
			}
		}
		return 0, fmt.Errorf("%s/type: must be one of null, boolean, object, array, number, integer, string; got %s", at, v.String())
	}
	if x.Type() == fastjson.TypeArray {
		arr, _ := x.Array()
		var m uint8
		for _, a := range arr {
			b, err := one(a)
			if err != nil {
				return 0, err
			}
			m |= b
		}
		return m, nil
	}
	return one(x)
}

// canonicalJSON renders a value with sorted object keys and normalised numbers, for enum/const/uniqueItems.
func canonicalJSON(v *fastjson.Value) string {
	var b []byte
	b = appendCanonical(b, v, 0)
	return string(b)
}

func appendCanonical(b []byte, v *fastjson.Value, depth int) []byte {
	if depth > maxSchemaDepth {
		return append(b, "…"...)
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		var keys []string
		o.Visit(func(k []byte, _ *fastjson.Value) { keys = append(keys, string(k)) })
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			b = appendCanonical(b, o.Get(k), depth+1)
		}
		return append(b, '}')
	case fastjson.TypeArray:
		arr, _ := v.Array()
		b = append(b, '[')
		for i, a := range arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, a, depth+1)
		}
		return append(b, ']')
	case fastjson.TypeString:
		sb, _ := v.StringBytes()
		return strconv.AppendQuote(b, string(sb))
	case fastjson.TypeNumber:
		f, _ := v.Float64()
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	default:
		return append(b, v.String()...)
	}
}

// ErrNotJSON is returned (wrapped) by ValidateText when the text is not JSON.
var ErrNotJSON = errors.New("output is not valid JSON")

// ValidateText validates the assistant's text: surrounding whitespace and one enclosing markdown code fence
// (```json ... ```) are tolerated. It returns the violations (at most 10), or an error wrapping ErrNotJSON.
func (s *Schema) ValidateText(text string) ([]string, error) {
	body := strings.TrimSpace(text)
	if strings.HasPrefix(body, "```") && strings.HasSuffix(body, "```") && len(body) >= 6 {
		inner := body[3 : len(body)-3]
		if i := strings.IndexByte(inner, '\n'); i >= 0 {
			inner = inner[i+1:]
		}
		body = strings.TrimSpace(inner)
	}
	var p fastjson.Parser
	v, err := p.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	var errs []string
	s.validate(s.root, v, "", &errs, 0)
	return errs, nil
}

// Validate validates a JSON document; a parse failure is reported as a violation.
func (s *Schema) Validate(doc []byte) []string {
	errs, err := s.ValidateText(string(doc))
	if err != nil {
		return []string{"/: " + err.Error()}
	}
	return errs
}

func (s *Schema) fail(errs *[]string, path, format string, args ...any) {
	if len(*errs) >= maxSchemaErrors {
		return
	}
	if path == "" {
		path = "/"
	}
	*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
}

func typeOf(v *fastjson.Value) uint8 {
	switch v.Type() {
	case fastjson.TypeNull:
		return tNull
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return tBool
	case fastjson.TypeObject:
		return tObject
	case fastjson.TypeArray:
		return tArray
	case fastjson.TypeString:
		return tString
	case fastjson.TypeNumber:
		f, _ := v.Float64()
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			return tNumber | tInteger
		}
		return tNumber
	}
	return 0
}

func typeList(m uint8) string {
	var names []string
	for _, tn := range typeNames {
		if m&tn.bit != 0 {
			names = append(names, tn.name)
		}
	}
	return strings.Join(names, " or ")
}

// valid reports whether v satisfies n (used for anyOf/oneOf/not without collecting messages).
func (s *Schema) valid(n *schemaNode, v *fastjson.Value, depth int) bool {
	var errs []string
	s.validate(n, v, "", &errs, depth)
	return len(errs) == 0
}

func (s *Schema) validate(n *schemaNode, v *fastjson.Value, path string, errs *[]string, depth int) {
	if n == nil || n.always || len(*errs) >= maxSchemaErrors {
		return
	}
	if depth > maxSchemaDepth {
		s.fail(errs, path, "schema nesting deeper than %d", maxSchemaDepth)
		return
	}
	if n.never {
		s.fail(errs, path, "not allowed")
		return
	}
	if n.ref != "" {
		if r, ok := s.lookup(n.ref); ok {
			s.validate(r, v, path, errs, depth+1)
		}
	}
	vt := typeOf(v)
	if n.types != 0 && n.types&vt == 0 {
		s.fail(errs, path, "must be %s; got %s", typeList(n.types), v.Type())
		return
	}
	if n.constVal != nil && canonicalJSON(v) != *n.constVal {
		s.fail(errs, path, "must be equal to %s", *n.constVal)
	}
	if n.enum != nil {
		c := canonicalJSON(v)
		ok := false
		for _, e := range n.enum {
			ok = ok || e == c
		}
		if !ok {
			s.fail(errs, path, "must be one of %s", strings.Join(n.enum, ", "))
		}
	}
	switch {
	case vt&tString != 0:
		b, _ := v.StringBytes()
		cps := 0
		for range string(b) {
			cps++
		}
		if cps < n.minLen {
			s.fail(errs, path, "must be at least %d characters long; got %d", n.minLen, cps)
		}
		if n.maxLen >= 0 && cps > n.maxLen {
			s.fail(errs, path, "must be at most %d characters long; got %d", n.maxLen, cps)
		}
		if n.pattern != nil && !n.pattern.Match(b) {
			s.fail(errs, path, "must match pattern %q", n.pattern.String())
		}
	case vt&tNumber != 0:
		f, _ := v.Float64()
		if n.minimum != nil && f < *n.minimum {
			s.fail(errs, path, "must be >= %v", *n.minimum)
		}
		if n.maximum != nil && f > *n.maximum {
			s.fail(errs, path, "must be <= %v", *n.maximum)
		}
		if n.exclMin != nil && f <= *n.exclMin {
			s.fail(errs, path, "must be > %v", *n.exclMin)
		}
		if n.exclMax != nil && f >= *n.exclMax {
			s.fail(errs, path, "must be < %v", *n.exclMax)
		}
		if n.multipleOf > 0 {
			q := f / n.multipleOf
			if math.Abs(q-math.Round(q)) > 1e-9 {
				s.fail(errs, path, "must be a multiple of %v", n.multipleOf)
			}
		}
	case vt&tObject != 0:
		o, _ := v.Object()
		if o.Len() < n.minProps {
			s.fail(errs, path, "must have at least %d properties", n.minProps)
		}
		if n.maxProps >= 0 && o.Len() > n.maxProps {
			s.fail(errs, path, "must have at most %d properties", n.maxProps)
		}
		for _, r := range n.required {
			if o.Get(r) == nil {
				s.fail(errs, path, "missing required property %q", r)
			}
		}
		o.Visit(func(kb []byte, x *fastjson.Value) {
			key := string(kb)
			p := path + "/" + ptrEscape(key)
			if c, ok := n.props[key]; ok {
				s.validate(c, x, p, errs, depth+1)
				return
			}
			if n.additional != nil {
				if n.additional.never {
					s.fail(errs, p, "additional property not allowed")
					return
				}
				s.validate(n.additional, x, p, errs, depth+1)
			}
		})
	case vt&tArray != 0:
		arr, _ := v.Array()
		if len(arr) < n.minItems {
			s.fail(errs, path, "must have at least %d items; got %d", n.minItems, len(arr))
		}
		if n.maxItems >= 0 && len(arr) > n.maxItems {
			s.fail(errs, path, "must have at most %d items; got %d", n.maxItems, len(arr))
		}
		for i, x := range arr {
			p := path + "/" + strconv.Itoa(i)
			if i < len(n.prefixItems) {
				s.validate(n.prefixItems[i], x, p, errs, depth+1)
			} else if n.items != nil {
				s.validate(n.items, x, p, errs, depth+1)
			}
		}
		if n.unique {
			seen := make(map[string]int, len(arr))
			for i, x := range arr {
				c := canonicalJSON(x)
				if j, dup := seen[c]; dup {
					s.fail(errs, path, "items %d and %d are equal (uniqueItems)", j, i)
					break
				}
				seen[c] = i
			}
		}
	}
	for _, c := range n.allOf {
		s.validate(c, v, path, errs, depth+1)
	}
	if n.anyOf != nil {
		ok := false
		for _, c := range n.anyOf {
			if s.valid(c, v, depth+1) {
				ok = true
				break
			}
		}
		if !ok {
			s.fail(errs, path, "must match at least one schema in anyOf")
		}
	}
	if n.oneOf != nil {
		m := 0
		for _, c := range n.oneOf {
			if s.valid(c, v, depth+1) {
				m++
			}
		}
		if m != 1 {
			s.fail(errs, path, "must match exactly one schema in oneOf; matched %d", m)
		}
	}
	if n.not != nil && s.valid(n.not, v, depth+1) {
		s.fail(errs, path, "must not match the schema in not")
	}
}
