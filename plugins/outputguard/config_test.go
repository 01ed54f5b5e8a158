package outputguard

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wasmguard/wasmguard/plugins/outputguard/check"
	"github.com/wasmguard/wasmguard/sdk/config"
)

func defaultConfig() Config {
	return Config{
		Common:         config.Common{Mode: config.ModeEnforce, OnError: config.OnErrorDeny, MaxBodyBytes: config.DefaultMaxBodyBytes},
		Status:         403,
		SchemaAction:   "block",
		AnnotateHeader: "x-wasmguard-output-findings",
		HoldTimeoutMS:  5000,
		Check: check.Config{
			Exfil:   check.ExfilConfig{Enabled: true, Action: check.ActionRedact, Threshold: 0.6, Placeholder: "#wasmguard-blocked-url"},
			Markup:  check.MarkupConfig{Enabled: true, Action: check.ActionRedact},
			Secrets: check.SecretsConfig{Enabled: true, Action: check.ActionRedact},
			Leak:    check.LeakConfig{Enabled: true, Action: check.ActionBlock, NGram: 8, FromRequest: true, PhraseThreshold: 1},
		},
	}
}

// comparable strips the compiled parts.
func comparable(c Config) Config {
	c.checker = nil
	c.Schema = nil
	return c
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    func(c *Config)
		wantErr string
	}{
		{name: "empty", json: ``, want: func(*Config) {}},
		{name: "checks configured", json: `{"mode":"monitor","on_error":"allow","status":422,
			"exfiltration":{"action":"block","allowed_domains":["acme.com","*.acme.com"],"threshold":0.8,"images_only":true,"placeholder":"about:blank"},
			"unsafe_markup":{"enabled":false,"scan_code":true},
			"secrets":{"action":"annotate"},
			"prompt_leak":{"system_prompt_canaries":["zq-canary-7781"],"system_prompt":"You are a helpful bot of Acme; never share the roadmap.","ngram":6,"from_request":false,"phrases":true,"phrase_threshold":1.5},
			"buffer_streams":true,"annotate_header":"x-og","hold_headers":true,"hold_timeout_ms":2500}`,
			want: func(c *Config) {
				c.Mode, c.OnError, c.Status = config.ModeMonitor, config.OnErrorAllow, 422
				c.Check.Exfil = check.ExfilConfig{Enabled: true, Action: check.ActionBlock, AllowedDomains: []string{"acme.com", "*.acme.com"}, Threshold: 0.8, ImagesOnly: true, Placeholder: "about:blank"}
				c.Check.Markup = check.MarkupConfig{Enabled: false, Action: check.ActionRedact, ScanCode: true}
				c.Check.Secrets.Action = check.ActionAnnotate
				c.Check.Leak = check.LeakConfig{Enabled: true, Action: check.ActionBlock, Canaries: []string{"zq-canary-7781"},
					SystemPrompt: "You are a helpful bot of Acme; never share the roadmap.", NGram: 6, Phrases: true, PhraseThreshold: 1.5}
				c.BufferStreams, c.AnnotateHeader, c.HoldHeaders, c.HoldTimeoutMS = true, "x-og", true, 2500
			}},
		{name: "hold timeout range", json: `{"hold_timeout_ms":50}`, wantErr: `hold_timeout_ms: must be an integer between 100 and 600000; got 50`},
		{name: "bad action", json: `{"secrets":{"action":"hash"}}`, wantErr: `secrets.action: must be one of block, redact, annotate; got "hash"`},
		{name: "unknown key", json: `{"exfiltration":{"allow_domains":["a.com"]}}`, wantErr: `exfiltration.allow_domains: unknown key`},
		{name: "bad domain", json: `{"exfiltration":{"allowed_domains":["ok.com","not a host"]}}`, wantErr: `exfiltration.allowed_domains[1]: must be a host name like example.com or *.example.com; got "not a host"`},
		{name: "short canary", json: `{"prompt_leak":{"system_prompt_canaries":["ab"]}}`, wantErr: `prompt_leak.system_prompt_canaries[0]: must be 3 to 1024 bytes after trimming; got 2`},
		{name: "threshold range", json: `{"exfiltration":{"threshold":0}}`, wantErr: `exfiltration.threshold: must be a number between 0.1 and 5; got 0`},
		{name: "ngram range", json: `{"prompt_leak":{"ngram":2}}`, wantErr: `prompt_leak.ngram: must be an integer between 4 and 32; got 2`},
		{name: "schema keyword", json: `{"json_schema":{"type":"object","patternProperties":{}}}`, wantErr: `json_schema: /patternProperties: keyword not supported by outputguard's JSON Schema subset`},
		{name: "schema not object", json: `{"json_schema":"object"}`, wantErr: `json_schema: must be a JSON Schema object; got String`},
		{name: "schema action", json: `{"json_schema_action":"redact"}`, wantErr: `json_schema_action: must be one of block, annotate; got "redact"`},
		{name: "rule error path", json: `{"rules":[{"name":"r","match":{"path_prefix":"/x"},"unsafe_markup":{"action":"strip"}}]}`, wantErr: `rules[0].unsafe_markup.action: must be one of block, redact, annotate; got "strip"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseConfig([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want := defaultConfig()
			tc.want(&want)
			if got := comparable(r.Default); !reflect.DeepEqual(got, want) {
				t.Errorf("config:\n got %+v\nwant %+v", got, want)
			}
			if r.Default.checker == nil {
				t.Error("checker not compiled")
			}
		})
	}
}

func TestParseConfigRulesOverlay(t *testing.T) {
	r, err := parseConfig([]byte(`{"secrets":{"action":"block"},"rules":[{"name":"json","match":{"path_prefix":"/v1/extract"},
		"json_schema":{"type":"object","required":["a"]},"buffer_streams":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rule := r.Rules[0].Config
	if rule.Schema == nil || !rule.BufferStreams || rule.Check.Secrets.Action != check.ActionBlock {
		t.Errorf("rule overlay: schema=%v buffer=%v secrets=%s", rule.Schema != nil, rule.BufferStreams, rule.Check.Secrets.Action)
	}
	if r.Default.Schema != nil || r.Default.BufferStreams {
		t.Error("default got the rule's settings")
	}
	if got := rule.Schema.Validate([]byte(`{"b":1}`)); !reflect.DeepEqual(got, []string{`/: missing required property "a"`}) {
		t.Errorf("rule schema: %q", got)
	}
}

// TestExamples parses every example config, so the docs cannot rot.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseConfig(raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
