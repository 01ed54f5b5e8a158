package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Compile compiles a filter's schema (as For builds it, which TestGeneratedFilesAreCurrent keeps equal to
// dist/<filter>.schema.json) with format assertions on: "regex" is checked by Go's regexp (RE2), the engine the
// filters compile patterns with.
func Compile(filter string) (*jsonschema.Schema, error) {
	s, err := For(filter)
	if err != nil {
		return nil, err
	}
	return compileDoc(s["$id"].(string), s)
}

func compileDoc(id string, doc M) (*jsonschema.Schema, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return CompileJSON(id, b)
}

// CompileJSON compiles one schema document (JSON text) under the URL id.
func CompileJSON(id string, doc []byte) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(id, v); err != nil {
		return nil, err
	}
	return c.Compile(id)
}

// Validate checks one JSON document against a compiled schema.
func Validate(s *jsonschema.Schema, raw []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

var (
	compiledMu sync.Mutex
	compiled   = map[string]*jsonschema.Schema{}
)

func compiledFor(filter string) (*jsonschema.Schema, error) {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if s := compiled[filter]; s != nil {
		return s, nil
	}
	s, err := Compile(filter)
	if err == nil {
		compiled[filter] = s
	}
	return s, err
}

// Mismatch is a generated config on which the schema and the parser disagree.
type Mismatch struct {
	Config      []byte
	SchemaErr   error // nil: the schema accepts it
	ParserErr   error // nil: the parser accepts it
	Filter      string
	Seed, Index uint64
}

func (m *Mismatch) Error() string {
	verdict := func(err error) string {
		if err == nil {
			return "accepts"
		}
		return "rejects: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return fmt.Sprintf("%s: schema and parser disagree on %s\n  schema %s\n  parser %s",
		m.Filter, m.Config, verdict(m.SchemaErr), verdict(m.ParserErr))
}

// Stats counts the generated configs by verdict.
type Stats struct{ Valid, Invalid int }

// Differential generates n configs for filter from its schema (seeded by seed) and compares the schema's verdict
// with parse's (the filter's own parseConfig). It returns the first disagreement.
func Differential(filter string, seed uint64, n int, parse func([]byte) error) (Stats, error) {
	var st Stats
	s, err := compiledFor(filter)
	if err != nil {
		return st, err
	}
	doc, _ := For(filter)
	g := newGen(doc, seed)
	for i := 0; i < n; i++ {
		raw, err := json.Marshal(g.value(doc, 0))
		if err != nil {
			return st, err
		}
		serr := Validate(s, raw)
		perr := parse(raw)
		if (serr == nil) != (perr == nil) {
			return st, &Mismatch{Config: raw, SchemaErr: serr, ParserErr: perr, Filter: filter, Seed: seed, Index: uint64(i)}
		}
		if serr == nil {
			st.Valid++
		} else {
			st.Invalid++
		}
	}
	return st, nil
}

// TestDifferential is the body of each plugin's TestSchemaMatchesParser: n generated configs, at least a
// quarter of them valid and a quarter invalid (so the comparison covers both sides).
func TestDifferential(t *testing.T, filter string, n int, parse func([]byte) error) {
	t.Helper()
	st, err := Differential(filter, 1, n, parse)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d generated configs, %d valid, %d invalid, schema and parser agree on all", filter, n, st.Valid, st.Invalid)
	if st.Valid < n/4 || st.Invalid < n/4 {
		t.Errorf("%s: generated %d valid and %d invalid configs; want at least %d of each", filter, st.Valid, st.Invalid, n/4)
	}
}

// FuzzDifferential is the body of each plugin's FuzzSchemaMatchesParser: the fuzzer picks the generator's seed.
func FuzzDifferential(f *testing.F, filter string, parse func([]byte) error) {
	for _, s := range []uint64{2, 3, 5, 8, 13} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		if _, err := Differential(filter, seed, 20, parse); err != nil {
			t.Fatal(err)
		}
	})
}

// gen builds random configs from a schema: mostly values the schema describes (enum members, bounds and
// just-outside-bounds numbers, example strings, known keys), with a few wrong types, unknown keys and typos.
type gen struct {
	r    *rand.Rand
	pool []string
}

func newGen(doc M, seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			g.pool = append(g.pool, s)
		}
	}
	for _, s := range junk {
		add(s)
	}
	// every enum value and example string of every filter, so one filter's values are tried on another's keys
	for _, f := range Filters {
		d, _ := For(f)
		walkStrings(d, add)
	}
	sort.Strings(g.pool)
	return g
}

// junk are strings that sit on the edges of the parsers' checks.
var junk = []string{"", "x", "Bad Value", "default", "rule_0", "/v1/chat/completions", "v1/", "*.corp.example", "*",
	"*.", "a*b", "api.example.com", "host name", "POST", "get", "PO ST", "x-tenant", "X-Tenant", "bad header",
	"header:x-tenant", "header:X", "property:a.b", "property:.a", "property:a..b", "(", "[a-z]+", "a{2,}", "sub",
	"authorization", "webdis", "/", "0123456789abcdef0123", "short-key", "EMAIL", "FOO_BAR", "foo_bar", "consumer",
	"tool_definition", "per_key", "Per Key", "gpt-4o*", "ok-name_1", "\u00e9t\u00e9", "12", "true"}

func walkStrings(v any, add func(string)) {
	switch t := v.(type) {
	case M:
		for k, x := range t {
			if k == "enum" || k == "examples" || k == keyExamplesKey || k == "const" {
				collect(x, add)
				continue
			}
			if k != "description" && k != "title" && k != "$id" && k != "$schema" && k != "pattern" {
				walkStrings(x, add)
			}
		}
	case []any:
		for _, x := range t {
			walkStrings(x, add)
		}
	}
}

func collect(v any, add func(string)) {
	switch t := v.(type) {
	case string:
		add(t)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				add(s)
			}
		}
	}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(list []any) any { return list[g.r.IntN(len(list))] }

// wrong returns a value of a random JSON type.
func (g *gen) wrong() any {
	switch g.r.IntN(7) {
	case 0:
		return g.pool[g.r.IntN(len(g.pool))]
	case 1:
		return -1
	case 2:
		return 2.5
	case 3:
		return true
	case 4:
		return []any{}
	case 5:
		return M{}
	}
	return nil
}

func types(s M) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

func num(v any) (float64, bool) {
	switch t := v.(type) {
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

func (g *gen) value(s M, depth int) any {
	if depth > 0 && g.chance(0.05) {
		w := g.wrong()
		if _, isStr := w.(string); isStr && s[checkKey] != nil {
			w = 2.5 // a string the parser checks beyond the schema comes from the examples only
		}
		return w
	}
	ts := types(s)
	if len(ts) == 0 {
		if alts, ok := s["anyOf"].([]any); ok {
			return g.value(alts[g.r.IntN(len(alts))].(M), depth)
		}
		return g.wrong()
	}
	t := ts[g.r.IntN(len(ts))]
	if t == "null" && len(ts) > 1 && !g.chance(0.3) {
		for t == "null" {
			t = ts[g.r.IntN(len(ts))]
		}
	}
	if e, ok := s["enum"].([]any); ok && t != "null" && g.chance(0.9) {
		v := g.pick(e)
		if v != nil {
			return v
		}
	}
	switch t {
	case "null":
		return nil
	case "boolean":
		return g.chance(0.5)
	case "integer", "number":
		return g.number(s, t == "integer")
	case "string":
		ex, _ := s["examples"].([]any)
		var strs []any
		for _, x := range ex {
			if _, ok := x.(string); ok {
				strs = append(strs, x)
			}
		}
		if len(strs) > 0 && (s[checkKey] != nil || g.chance(0.5)) {
			return g.pick(strs)
		}
		if s[checkKey] != nil && g.chance(0.5) {
			return "ok-value-of-some-length-" + fmt.Sprint(g.r.IntN(100))
		}
		return g.pool[g.r.IntN(len(g.pool))]
	case "array":
		return g.array(s, depth)
	case "object":
		if ex, ok := s["examples"].([]any); ok && s[checkKey] != nil {
			return g.pick(ex)
		}
		return g.object(s, depth)
	}
	return g.wrong()
}

func (g *gen) number(s M, integer bool) any {
	lo, hasLo := num(s["minimum"])
	hi, hasHi := num(s["maximum"])
	if !hasLo {
		lo = 0
	}
	if !hasHi {
		hi = lo + 100
	}
	var c []float64
	if integer {
		c = []float64{lo, hi, lo - 1, hi + 1, lo + 1, float64(int64((lo + hi) / 2))}
	} else {
		c = []float64{lo, hi, lo - 0.001, hi + 0.001, (lo + hi) / 2, lo + (hi-lo)/7}
	}
	v := c[g.r.IntN(len(c))]
	if integer && g.chance(0.03) {
		return v + 0.5
	}
	if integer {
		return int64(v)
	}
	return v
}

func (g *gen) array(s M, depth int) any {
	items, _ := s["items"].(M)
	if items == nil {
		return []any{}
	}
	n := g.r.IntN(4)
	out := []any{}
	for i := 0; i < n; i++ {
		out = append(out, g.value(items, depth+1))
	}
	if key, ok := s[uniqueByKey].(string); ok {
		seen := map[any]bool{}
		kept := out[:0]
		for _, x := range out {
			if m, ok := x.(M); ok {
				k := m[key]
				if _, hashable := k.(M); hashable {
					kept = append(kept, x)
					continue
				}
				if _, list := k.([]any); list {
					kept = append(kept, x)
					continue
				}
				if k != nil && seen[k] {
					continue
				}
				seen[k] = true
			}
			kept = append(kept, x)
		}
		out = kept
	}
	return out
}

func (g *gen) object(s M, depth int) any {
	out := M{}
	req := map[string]bool{}
	if r, ok := s["required"].([]any); ok {
		for _, k := range r {
			req[k.(string)] = true
		}
	}
	if props, ok := s["properties"].(M); ok {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p := 0.3
		if depth == 0 {
			p = 0.2
		}
		for _, k := range keys {
			if (req[k] && g.chance(0.93)) || g.chance(p) {
				out[k] = g.value(props[k].(M), depth+1)
			}
		}
		if tog, ok := s[togetherKey].([]any); ok {
			set := false
			for _, k := range tog {
				_, has := out[k.(string)]
				set = set || has
			}
			for _, k := range tog {
				if _, has := out[k.(string)]; set && !has {
					out[k.(string)] = g.value(props[k.(string)].(M), depth+1)
				}
			}
		}
		if g.chance(0.04) && len(keys) > 0 {
			out[keys[g.r.IntN(len(keys))]+"s"] = true // a typo
		}
	}
	pp, _ := s["patternProperties"].(M)
	if ap, ok := s["additionalProperties"].(M); ok {
		var names []any
		if ex, ok := s[keyExamplesKey].([]any); ok {
			names = ex
		}
		for i, n := 0, g.r.IntN(3); i < n; i++ {
			var k string
			if len(names) > 0 && g.chance(0.9) {
				k = g.pick(names).(string)
			} else {
				k = g.pool[g.r.IntN(len(g.pool))]
			}
			vs := ap
			for pat, ps := range pp {
				if regexp.MustCompile(pat).MatchString(k) {
					vs = ps.(M)
				}
			}
			out[k] = g.value(vs, depth+1)
		}
	} else if g.chance(0.02) {
		out["unknown_key"] = 1
	}
	return out
}

// DifferentialCombined is Differential for the combined module's configuration ({"promptguard": {...}, ...}):
// each filter's key is absent, null, a generated config of that filter or a wrong type, sometimes with an unknown
// stage key; parse is the combined module's own Configure.
func DifferentialCombined(seed uint64, n int, parse func([]byte) error) (Stats, error) {
	var st Stats
	s, err := compileCombined()
	if err != nil {
		return st, err
	}
	gens := map[string]*gen{}
	docs := map[string]M{}
	for i, f := range Filters {
		docs[f], _ = For(f)
		gens[f] = newGen(docs[f], seed+uint64(i)*7919)
	}
	r := gens[Filters[0]].r
	for i := 0; i < n; i++ {
		cfg := M{}
		for _, f := range Filters {
			switch x := r.Float64(); {
			case x < 0.45:
			case x < 0.5:
				cfg[f] = nil
			case x < 0.53:
				cfg[f] = "on"
			default:
				cfg[f] = gens[f].value(docs[f], 0)
			}
		}
		if r.Float64() < 0.05 {
			cfg["promptgaurd"] = M{}
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			return st, err
		}
		serr := Validate(s, raw)
		perr := parse(raw)
		if (serr == nil) != (perr == nil) {
			return st, &Mismatch{Config: raw, SchemaErr: serr, ParserErr: perr, Filter: CombinedName, Seed: seed, Index: uint64(i)}
		}
		if serr == nil {
			st.Valid++
		} else {
			st.Invalid++
		}
	}
	return st, nil
}

// TestDifferentialCombined is the body of the combined module's TestSchemaMatchesParser.
func TestDifferentialCombined(t *testing.T, n int, parse func([]byte) error) {
	t.Helper()
	st, err := DifferentialCombined(1, n, parse)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wasmguard: %d generated configs, %d valid, %d invalid, schema and parser agree on all", n, st.Valid, st.Invalid)
	if st.Valid < n/10 || st.Invalid < n/4 {
		t.Errorf("generated %d valid and %d invalid configs; want at least %d and %d", st.Valid, st.Invalid, n/10, n/4)
	}
}
