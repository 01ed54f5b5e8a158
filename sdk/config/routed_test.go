package config

import (
	"testing"
)

type rcfg struct {
	Common
	Threshold float64
	Store     string
}

func parseR(o Obj) rcfg {
	o.GlobalOnly("store")
	return rcfg{Common: ReadCommon(o), Threshold: o.Float("threshold", 0.8, 0, 1), Store: o.String("store", "local")}
}

func TestParseRouted(t *testing.T) {
	raw := `{
	  "mode": "enforce", "threshold": 0.7, "store": "shared",
	  "rules": [
	    {"name": "internal", "match": {"host": ["*.corp.example", "API.example.com"]}, "mode": "monitor"},
	    {"name": "batch", "match": {"path_prefix": "/v1/batches", "method": ["post"]}, "threshold": 0.95},
	    {"match": {"headers": {"x-tenant": "acme", "x-debug": true, "x-internal": false}}, "on_error": "allow"},
	    {"name": "route", "match": {"route": "chat", "consumer": "alice"}, "max_body_bytes": 10},
	    {"name": "re", "match": {"path_regex": "^/v1/(chat|responses)$"}, "threshold": 0.1}
	  ]
	}`
	r, err := ParseRouted([]byte(raw), parseR)
	if err != nil {
		t.Fatal(err)
	}
	if r.Default.Threshold != 0.7 || r.Default.Mode != ModeEnforce || r.Default.Store != "shared" {
		t.Fatalf("default = %+v", r.Default)
	}
	if len(r.Rules) != 5 || r.Rules[2].Name != "rule_2" {
		t.Fatalf("rules = %+v", r.Rules)
	}
	tests := []struct {
		name      string
		ri        RequestInfo
		wantRule  string
		wantMode  Mode
		wantThr   float64
		wantAllow bool
		wantMax   int64
	}{
		{"no match", RequestInfo{Host: "api.other.com", Path: "/v1/chat/completions", Method: "POST"}, "default", ModeEnforce, 0.7, false, 1 << 20},
		{"wildcard host with port", RequestInfo{Host: "llm.corp.example:8443", Path: "/x", Method: "POST"}, "internal", ModeMonitor, 0.7, false, 1 << 20},
		{"wildcard excludes bare domain", RequestInfo{Host: "corp.example", Path: "/x"}, "default", ModeEnforce, 0.7, false, 1 << 20},
		{"exact host case-insensitive", RequestInfo{Host: "Api.Example.Com", Path: "/x"}, "internal", ModeMonitor, 0.7, false, 1 << 20},
		{"prefix and method", RequestInfo{Host: "a", Path: "/v1/batches?x=1", Method: "POST"}, "batch", ModeEnforce, 0.95, false, 1 << 20},
		{"prefix wrong method", RequestInfo{Host: "a", Path: "/v1/batches", Method: "GET"}, "default", ModeEnforce, 0.7, false, 1 << 20},
		{"headers", RequestInfo{Path: "/", Headers: [][2]string{{"x-tenant", "acme"}, {"x-debug", ""}}}, "rule_2", ModeEnforce, 0.7, true, 1 << 20},
		{"headers absent violated", RequestInfo{Path: "/", Headers: [][2]string{{"x-tenant", "acme"}, {"x-debug", "1"}, {"x-internal", "1"}}}, "default", ModeEnforce, 0.7, false, 1 << 20},
		{"headers value mismatch", RequestInfo{Path: "/", Headers: [][2]string{{"x-tenant", "acme2"}, {"x-debug", "1"}}}, "default", ModeEnforce, 0.7, false, 1 << 20},
		{"route and consumer", RequestInfo{Route: "chat", Consumer: "alice", Path: "/"}, "route", ModeEnforce, 0.7, false, 10},
		{"route without consumer", RequestInfo{Route: "chat", Path: "/"}, "default", ModeEnforce, 0.7, false, 1 << 20},
		{"regex without query", RequestInfo{Path: "/v1/responses?stream=true"}, "re", ModeEnforce, 0.1, false, 1 << 20},
		{"regex no match", RequestInfo{Path: "/v1/responses/x"}, "default", ModeEnforce, 0.7, false, 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, rule := r.Select(&tc.ri)
			if rule != tc.wantRule || cfg.Mode != tc.wantMode || cfg.Threshold != tc.wantThr ||
				cfg.FailOpen() != tc.wantAllow || cfg.MaxBodyBytes != tc.wantMax || cfg.Store != "shared" {
				t.Fatalf("Select = %q %+v", rule, *cfg)
			}
		})
	}
}

func TestParseRoutedErrors(t *testing.T) {
	tests := []struct {
		name, json, wantErr string
	}{
		{"rule value", `{"rules":[{"match":{"route":"a"}},{"match":{"route":"b"},"threshold":"high"}]}`,
			`rules[1].threshold: must be a number between 0 and 1; got "high"`},
		{"inherited error reported once at top level", `{"threshold":2,"rules":[{"match":{"route":"a"}},{"match":{"route":"b"}}]}`,
			`threshold: must be a number between 0 and 1; got 2`},
		{"unknown key in rule", `{"rules":[{"match":{"route":"a"},"treshold":0.5}]}`, `rules[0].treshold: unknown key`},
		{"unknown top key once", `{"foo":1,"rules":[{"match":{"route":"a"}}]}`, `foo: unknown key`},
		{"unknown match key", `{"rules":[{"match":{"hosts":"a"}}]}`, "rules[0].match: must set at least one of route, host, path_prefix, path_regex, method, headers, consumer\nrules[0].match.hosts: unknown key"},
		{"missing match", `{"rules":[{"name":"x","mode":"monitor"}]}`, `rules[0].match: is required`},
		{"empty match", `{"rules":[{"match":{}}]}`, `rules[0].match: must set at least one of route, host, path_prefix, path_regex, method, headers, consumer`},
		{"match not object", `{"rules":[{"match":"a"}]}`, `rules[0].match: must be an object; got "a"`},
		{"duplicate names", `{"rules":[{"name":"a","match":{"route":"a"}},{"name":"a","match":{"route":"b"}}]}`, `rules[1].name: must be unique and not "default"; got "a"`},
		{"name default", `{"rules":[{"name":"default","match":{"route":"a"}}]}`, `rules[0].name: must be unique and not "default"; got "default"`},
		{"rules not array", `{"rules":{"a":1}}`, `rules: must be an array of objects; got {"a":1}`},
		{"rule not object", `{"rules":["x"]}`, `rules[0]: must be an object; got "x"`},
		{"bad host", `{"rules":[{"match":{"host":["ok.com","*","a*.b","*.x.com","x.com/y"]}}]}`,
			"rules[0].match.host[1]: must be a host name or \"*.\" followed by a domain; got \"*\"\nrules[0].match.host[2]: must be a host name or \"*.\" followed by a domain; got \"a*.b\"\nrules[0].match.host[4]: must be a host name or \"*.\" followed by a domain; got \"x.com/y\""},
		{"bad prefix", `{"rules":[{"match":{"path_prefix":"v1"}}]}`, `rules[0].match.path_prefix: must start with "/"; got "v1"`},
		{"bad regex", `{"rules":[{"match":{"path_regex":"("}}]}`, "rules[0].match.path_regex: must be a valid regular expression (missing closing ): `(`); got \"(\""},
		{"bad header value", `{"rules":[{"match":{"headers":{"x-a":1}}}]}`, `rules[0].match.headers.x-a: must be a string (exact value), true (present) or false (absent); got 1`},
		{"global only", `{"rules":[{"match":{"route":"a"},"store":"x"}]}`, `rules[0].store: can only be set at the top level`},
		{"consumer header global only", `{"consumer_header":"x-a","rules":[{"match":{"route":"a"},"consumer_header":"x-b"}]}`, `rules[0].consumer_header: can only be set at the top level`},
		{"bad method", `{"rules":[{"match":{"method":"PO ST"}}]}`, `rules[0].match.method: must be an HTTP method; got "PO ST"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRouted([]byte(tc.json), parseR)
			if err == nil {
				t.Fatalf("want error %q", tc.wantErr)
			}
			if err.Error() != tc.wantErr {
				t.Fatalf("error\n got: %s\nwant: %s", err, tc.wantErr)
			}
		})
	}
}

func TestConditionalKeyNotUnknown(t *testing.T) {
	// "patterns" is read only when mode is monitor; a rule reads it, the default does not.
	parse := func(o Obj) string {
		m := o.Enum("mode", "enforce", "enforce", "monitor")
		if m == "monitor" {
			return o.String("patterns", "")
		}
		return ""
	}
	_, err := ParseRouted([]byte(`{"patterns":"p","rules":[{"match":{"route":"a"},"mode":"monitor"}]}`), parse)
	if err != nil {
		t.Fatalf("key read by a rule parse reported: %v", err)
	}
}

func TestHostOnly(t *testing.T) {
	for in, want := range map[string]string{
		"Example.com:80": "example.com", "[::1]:8080": "[::1]", "[::1]": "[::1]", "a.b": "a.b", "::1": "::1",
	} {
		if got := hostOnly(in); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"mode":"monitor","threshold":0.5,"rules":[{"name":"a","match":{"host":"*.x","headers":{"a":true}},"threshold":"x"}]}`))
	f.Add([]byte(`{"a":{"b":[1,2,{"c":null}]}}`))
	f.Add([]byte(`{"mode":`))
	f.Add([]byte(`[[[[[[`))
	f.Add([]byte(`{"deny":["\u00e9",1],"limit":1e400}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := ParseRouted(raw, parseTestRouted)
		if err == nil {
			ri := RequestInfo{Host: "a.x:1", Path: "/v1?x", Method: "POST", Headers: [][2]string{{"a", "b"}}}
			if cfg, _ := r.Select(&ri); cfg == nil {
				t.Fatal("Select returned nil")
			}
		} else if err.Error() == "" {
			t.Fatal("empty error text")
		}
	})
}

func parseTestRouted(o Obj) testCfg { return parseTest(o) }
