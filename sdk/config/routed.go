package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// RequestInfo is what a rule can match on. sdk/filter fills it once per request from the request
// headers and host properties.
type RequestInfo struct {
	Route     string      // Envoy route name (property xds.route_name); "" when the host has none
	Host      string      // :authority (or host), as sent
	Path      string      // :path, including any query string
	Method    string      // :method
	Consumer  string      // value of the configured consumer_header; "" when unset
	RequestID string      // x-request-id; "" when absent
	Headers   [][2]string // all request headers, names lower-case, in arrival order
}

// Header returns the first value of the header name (lower-case) and whether it was present.
func (ri *RequestInfo) Header(name string) (string, bool) {
	for i := range ri.Headers {
		if ri.Headers[i][0] == name {
			return ri.Headers[i][1], true
		}
	}
	return "", false
}

// Match selects requests. Within a field any listed value may match (OR); all fields that are set must
// match (AND). A Match with nothing set matches every request; ParseRouted does not allow that for a rule.
//
// JSON (every key optional, strings may also be arrays of strings):
//
//	"match": {
//	  "route": "chat-route",                 // Envoy route name, exact
//	  "host": ["api.example.com", "*.corp.example"], // exact, or "*." + suffix (not the bare suffix); port ignored; case-insensitive
//	  "path_prefix": "/v1/chat/",            // on the path without its query string
//	  "path_regex": "^/v1/(chat|responses)", // RE2, searched in the path without its query string
//	  "method": "POST",
//	  "headers": {"x-tenant": "acme", "x-debug": true, "x-internal": false}, // exact value / present / absent
//	  "consumer": ["alice", "bob"]           // value of consumer_header
//	}
type Match struct {
	Routes       []string
	Hosts        []string // lower-case; "*.x" entries match any subdomain of x
	PathPrefixes []string
	PathRegex    *regexp.Regexp
	Methods      []string // upper-case
	Headers      []HeaderMatch
	Consumers    []string
}

// HeaderMatch is one header condition of a Match.
type HeaderMatch struct {
	Name    string // lower-case
	Value   string // exact value, when Present is true and Exact is true
	Exact   bool   // compare Value
	Present bool   // false: the header must be absent
}

// Empty reports whether m has no condition.
func (m *Match) Empty() bool {
	return len(m.Routes) == 0 && len(m.Hosts) == 0 && len(m.PathPrefixes) == 0 && m.PathRegex == nil &&
		len(m.Methods) == 0 && len(m.Headers) == 0 && len(m.Consumers) == 0
}

// Matches reports whether ri satisfies every condition of m.
func (m *Match) Matches(ri *RequestInfo) bool {
	if len(m.Routes) > 0 && !contains(m.Routes, ri.Route) {
		return false
	}
	if len(m.Hosts) > 0 && !matchHost(m.Hosts, ri.Host) {
		return false
	}
	if len(m.PathPrefixes) > 0 || m.PathRegex != nil {
		p := pathOnly(ri.Path)
		if len(m.PathPrefixes) > 0 {
			ok := false
			for _, pre := range m.PathPrefixes {
				if strings.HasPrefix(p, pre) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		if m.PathRegex != nil && !m.PathRegex.MatchString(p) {
			return false
		}
	}
	if len(m.Methods) > 0 && !contains(m.Methods, ri.Method) {
		return false
	}
	for i := range m.Headers {
		h := &m.Headers[i]
		found := false
		for j := range ri.Headers {
			if ri.Headers[j][0] == h.Name {
				if !h.Exact || ri.Headers[j][1] == h.Value {
					found = true
					break
				}
			}
		}
		if found != h.Present {
			return false
		}
	}
	if len(m.Consumers) > 0 && (ri.Consumer == "" || !contains(m.Consumers, ri.Consumer)) {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func pathOnly(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

// hostOnly lower-cases h and strips a port (also for "[::1]:8080").
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		if strings.Count(h, ":") == 1 || strings.HasPrefix(h, "[") {
			h = h[:i]
		}
	}
	return lower(h)
}

func matchHost(patterns []string, host string) bool {
	h := hostOnly(host)
	for _, p := range patterns {
		if strings.HasPrefix(p, "*.") {
			if len(h) > len(p)-1 && strings.HasSuffix(h, p[1:]) {
				return true
			}
		} else if p == h {
			return true
		}
	}
	return false
}

// ReadMatch reads a Match from o (the "match" object) and validates it.
func ReadMatch(o Obj) Match {
	if o.n == nil {
		return Match{}
	}
	m := Match{
		Routes:       o.StringOrList("route"),
		PathPrefixes: o.StringOrList("path_prefix"),
		PathRegex:    o.Regexp("path_regex"),
		Consumers:    o.StringOrList("consumer"),
	}
	for i, h := range o.StringOrList("host") {
		h = lower(h)
		bad := h == "" || strings.ContainsAny(h, " /?#@") || strings.Contains(h[min(1, len(h)):], "*") ||
			(strings.HasPrefix(h, "*") && (!strings.HasPrefix(h, "*.") || len(h) < 3))
		if bad {
			o.n.doc.add(elemPath(o, "host", i), `must be a host name or "*." followed by a domain; got `+strconv.Quote(h))
			continue
		}
		m.Hosts = append(m.Hosts, h)
	}
	for i, p := range m.PathPrefixes {
		if !strings.HasPrefix(p, "/") {
			o.n.doc.add(elemPath(o, "path_prefix", i), `must start with "/"; got `+strconv.Quote(p))
		}
	}
	for i, meth := range o.StringOrList("method") {
		up := strings.ToUpper(meth)
		if !validHeaderName(up) {
			o.n.doc.add(elemPath(o, "method", i), "must be an HTTP method; got "+strconv.Quote(meth))
			continue
		}
		m.Methods = append(m.Methods, up)
	}
	if hf := o.get("headers"); hf != nil {
		if !hf.val.IsObject() {
			o.fail(hf, "must be an object of header name to exact value, true (present) or false (absent)")
		} else {
			hf.val.ForEach(func(k, v gjson.Result) bool {
				name := k.String()
				p := join(hf.path, name)
				if !validHeaderName(name) && !(strings.HasPrefix(name, ":") && validHeaderName(name[1:])) {
					o.n.doc.add(p, "must be an HTTP header name")
					return true
				}
				hm := HeaderMatch{Name: lower(name), Present: true}
				switch v.Type {
				case gjson.String:
					hm.Exact, hm.Value = true, v.Str
				case gjson.True:
				case gjson.False:
					hm.Present = false
				default:
					o.n.doc.add(p, "must be a string (exact value), true (present) or false (absent); got "+describe(v))
					return true
				}
				m.Headers = append(m.Headers, hm)
				return true
			})
		}
	}
	return m
}

var matchKeys = []string{"route", "host", "path_prefix", "path_regex", "method", "headers", "consumer"}

func hasAny(o Obj, keys []string) bool {
	for _, k := range keys {
		if o.Has(k) {
			return true
		}
	}
	return false
}

func elemPath(o Obj, key string, i int) string {
	p := join(o.n.path, key)
	if f := o.find(key); f != nil {
		p = f.path
		if f.val.IsArray() {
			p += "[" + strconv.Itoa(i) + "]"
		}
	}
	return p
}

// Rule is one entry of "rules": a name, a Match and the configuration for matching requests.
type Rule[T any] struct {
	Name   string
	Match  Match
	Config T
}

// Routed is a configuration with per-route rules: Default applies when no rule matches.
type Routed[T any] struct {
	Default T
	Rules   []Rule[T]
}

// DefaultRule is the rule name Select returns when no rule matched.
const DefaultRule = "default"

// Select returns the configuration of the first rule whose Match accepts ri and the rule's name, or
// the default configuration and "default". The configuration is shared by every request: treat it as
// read-only.
func (r *Routed[T]) Select(ri *RequestInfo) (cfg *T, rule string) {
	for i := range r.Rules {
		if r.Rules[i].Match.Matches(ri) {
			return &r.Rules[i].Config, r.Rules[i].Name
		}
	}
	return &r.Default, DefaultRule
}

// ParseRouted parses a configuration made of top-level settings (the default) and an optional
// "rules" array of per-route overrides:
//
//	{
//	  "mode": "enforce",
//	  "threshold": 0.8,
//	  "rules": [
//	    {"name": "internal", "match": {"host": "*.corp.example"}, "mode": "monitor"},
//	    {"name": "batch", "match": {"path_prefix": "/v1/batches"}, "threshold": 0.95}
//	  ]
//	}
//
// parse is called once for the top level (without "rules"), then once per rule with an object in which
// the rule's keys (except "name" and "match") replace the top-level keys of the same name (a shallow
// overlay: a rule that sets "detectors" replaces the whole "detectors" value). Problems are reported at
// the path where the offending value was written ("rules[1].threshold: ..." or "threshold: ..."), once.
// Each rule needs a non-empty "match"; "name" is optional (default "rule_<index>"), unique and not
// "default". The first matching rule wins (see Select).
//
// The returned error is an *Errors; parse functions record problems through the Obj readers and
// Obj.Errorf and must not return early on bad input.
func ParseRouted[T any](raw []byte, parse func(o Obj) T) (*Routed[T], error) {
	root, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	rules := root.Array("rules")
	r := &Routed[T]{}
	base := root.overlay("", nil, "rules")
	r.Default = parse(base)
	names := map[string]bool{DefaultRule: true}
	for i, ro := range rules {
		name := ro.NonEmptyString("name", "rule_"+strconv.Itoa(i))
		if names[name] {
			ro.Errorf("name", "must be unique and not %q; got %q", DefaultRule, name)
		}
		names[name] = true
		mo, ok := ro.Object("match")
		m := ReadMatch(mo)
		if !ok && !ro.Has("match") {
			ro.n.doc.add(join(ro.n.path, "match"), "is required")
		} else if ok && !hasAny(mo, matchKeys) {
			ro.n.doc.add(mo.n.path, "must set at least one of route, host, path_prefix, path_regex, method, headers, consumer")
		}
		merged := root.overlay(ro.n.path, ro.n, "rules", "name", "match")
		r.Rules = append(r.Rules, Rule[T]{Name: name, Match: m, Config: parse(merged)})
	}
	if err := root.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// overlay builds a new object from o's fields (except skip) with rule's fields (except skip) replacing
// them; path is the new object's path.
func (o Obj) overlay(path string, rule *node, skip ...string) Obj {
	n := &node{doc: o.n.doc, path: path, rule: rule != nil}
	for _, f := range o.n.fields {
		if contains(skip, f.key) {
			continue
		}
		f.used, f.moved = false, false
		f.rule = false
		n.fields = append(n.fields, f)
	}
	if rule != nil {
		for i := range rule.fields {
			rf := &rule.fields[i]
			if contains(skip, rf.key) {
				continue
			}
			rf.moved = true // judged through the overlay instead
			nf := field{key: rf.key, val: rf.val, path: rf.path, rule: true}
			replaced := false
			for j := range n.fields {
				if n.fields[j].key == rf.key {
					n.fields[j] = nf
					replaced = true
					break
				}
			}
			if !replaced {
				n.fields = append(n.fields, nf)
			}
		}
	}
	// the top-level fields now live in the overlay; the originals are judged through it
	for i := range o.n.fields {
		if !contains(skip, o.n.fields[i].key) {
			o.n.fields[i].moved = true
		}
	}
	o.n.doc.nodes = append(o.n.doc.nodes, n)
	return Obj{n}
}

// UsesRoute reports whether any rule matches on the route name, i.e. whether the filter needs to read
// the route property for each request.
func (r *Routed[T]) UsesRoute() bool {
	for i := range r.Rules {
		if len(r.Rules[i].Match.Routes) > 0 {
			return true
		}
	}
	return false
}
