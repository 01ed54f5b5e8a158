package promptguard

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

func defaultConfig() Config {
	return Config{
		Common:                config.Common{Mode: config.ModeEnforce, OnError: config.OnErrorDeny, MaxBodyBytes: config.DefaultMaxBodyBytes},
		Action:                actionBlock,
		Status:                400,
		UnknownFormat:         config.UnknownFormatScan,
		UnreadableAttachments: config.UnreadableAttachmentsAllow,
		Policy: detect.Policy{
			Scan: []llm.Provenance{llm.ProvSystem, llm.ProvUser, llm.ProvAssistant, llm.ProvToolResult,
				llm.ProvDocument, llm.ProvToolCall, llm.ProvToolDefinition},
			Threshold:     detect.DefaultThreshold,
			DataThreshold: detect.DefaultDataThreshold,
			MaxScanBytes:  defaultMaxScanBytes,
			MaxSegments:   defaultMaxSegments,
			PayloadSplit:  true,
		},
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
		want    func(c *Config)
	}{
		{name: "empty", json: ``, want: func(*Config) {}},
		{name: "empty object", json: `{}`, want: func(*Config) {}},
		{name: "null", json: `null`, want: func(*Config) {}},
		{name: "invalid json", json: `{"mode":`, wantErr: "config: must be valid JSON; got invalid JSON at line 1, column 9"},
		{name: "monitor annotate", json: `{"mode":"monitor","action":"annotate","threshold":0.7,"data_threshold":0.4}`,
			want: func(c *Config) {
				c.Mode = config.ModeMonitor
				c.Action = actionAnnotate
				c.Policy.Threshold = 0.7
				c.Policy.DataThreshold = 0.4
			}},
		{name: "scan system too", json: `{"scan":["system","user"],"payload_split":false,"status":403,"max_scan_bytes":4096,"max_scan_segments":10}`,
			want: func(c *Config) {
				c.Policy.Scan = []llm.Provenance{llm.ProvSystem, llm.ProvUser}
				c.Policy.PayloadSplit = false
				c.Status = 403
				c.Policy.MaxScanBytes = 4096
				c.Policy.MaxSegments = 10
			}},
		{name: "phrases and markers", json: `{"deny_phrases":["launch codes"],"allow_phrases":["ignore the previous slide"],"document_markers":["<doc>"]}`,
			want: func(c *Config) {
				c.DenyPhrases = []string{"launch codes"}
				c.AllowPhrases = []string{"ignore the previous slide"}
				c.DocumentMarkers = []string{"<doc>"}
			}},
		{name: "patterns", json: `{"deny_patterns":["(?i)sudo\\s+mode"],"allow_patterns":["^TEST:"]}`,
			want: func(c *Config) {
				c.Policy.DenyPatterns = []*regexp.Regexp{regexp.MustCompile(`(?i)sudo\s+mode`)}
				c.Policy.AllowPatterns = []*regexp.Regexp{regexp.MustCompile(`^TEST:`)}
			}},
		{name: "unknown format", json: `{"unknown_format":"deny"}`, want: func(c *Config) { c.UnknownFormat = config.UnknownFormatDeny }},
		{name: "unreadable attachments", json: `{"unreadable_attachments":"deny"}`, want: func(c *Config) { c.UnreadableAttachments = config.UnreadableAttachmentsDeny }},
		{name: "bad unknown format", json: `{"unknown_format":"skip"}`, wantErr: `unknown_format: must be one of scan, allow, deny; got "skip"`},
		{name: "bad unreadable attachments", json: `{"unreadable_attachments":"block"}`, wantErr: `unreadable_attachments: must be one of allow, deny; got "block"`},
		{name: "bad action", json: `{"action":"redact"}`, wantErr: `action: must be one of block, annotate; got "redact"`},
		{name: "bad threshold", json: `{"threshold":1.5}`, wantErr: "threshold: must be a number between 0 and 1; got 1.5"},
		{name: "threshold string", json: `{"data_threshold":"low"}`, wantErr: `data_threshold: must be a number between 0 and 1; got "low"`},
		{name: "bad status", json: `{"status":302}`, wantErr: "status: must be an integer between 400 and 499; got 302"},
		{name: "bad scan entry", json: `{"scan":["user","web"]}`, wantErr: `scan[1]: must be one of system, user, assistant, tool_result, document, tool_call, tool_definition; got "web"`},
		{name: "empty scan", json: `{"scan":[]}`, wantErr: "scan: must list at least one of system, user, assistant, tool_result, document, tool_call, tool_definition; got an empty list"},
		{name: "trusted roles", json: `{"trusted_roles":["system","tool_definition"]}`,
			want: func(c *Config) {
				c.Policy.Scan = []llm.Provenance{llm.ProvUser, llm.ProvAssistant, llm.ProvToolResult, llm.ProvDocument, llm.ProvToolCall}
			}},
		{name: "thresholds per provenance", json: `{"thresholds":{"system":0.99,"tool_result":0.3}}`,
			want: func(c *Config) {
				c.Policy.Thresholds = map[llm.Provenance]float64{llm.ProvSystem: 0.99, llm.ProvToolResult: 0.3}
			}},
		{name: "bad trusted role", json: `{"trusted_roles":["admin"]}`, wantErr: `trusted_roles[0]: must be one of system, user, assistant, tool_result, document, tool_call, tool_definition; got "admin"`},
		{name: "everything trusted", json: `{"scan":["user"],"trusted_roles":["user"]}`, wantErr: `trusted_roles: must leave at least one provenance of scan inspected; got "user"`},
		{name: "bad threshold key", json: `{"thresholds":{"web":0.5}}`, wantErr: "thresholds.web: is not a provenance: must be one of system, user, assistant, tool_result, document, tool_call, tool_definition"},
		{name: "bad threshold value", json: `{"thresholds":{"user":2}}`, wantErr: "thresholds.user: must be a number between 0 and 1; got 2"},
		{name: "bad regexp", json: `{"deny_patterns":["(unclosed"]}`, wantErr: "deny_patterns[0]: must be a valid RE2 regular expression; got \"(unclosed\" (error parsing regexp: missing closing ): `(unclosed`)"},
		{name: "punctuation-only phrase", json: `{"allow_phrases":["!!!"]}`, wantErr: `allow_phrases[0]: must contain letters or digits; got "!!!"`},
		{name: "unknown key", json: `{"treshold":0.5}`, wantErr: "treshold: unknown key"},
		{name: "bad mode", json: `{"mode":"audit"}`, wantErr: `mode: must be one of enforce, monitor; got "audit"`},
		{name: "rule overlay error", json: `{"rules":[{"name":"tools","match":{"path_prefix":"/v1/"},"action":"drop"}]}`,
			wantErr: `rules[0].action: must be one of block, annotate; got "drop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseConfig([]byte(tt.json))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parseConfig(%s) = nil error, want %q", tt.json, tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Fatalf("parseConfig(%s) error\n got: %s\nwant: %s", tt.json, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig(%s): %v", tt.json, err)
			}
			want := defaultConfig()
			tt.want(&want)
			got := r.Default
			if got.det == nil {
				t.Fatal("detector not built")
			}
			got.det = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("parseConfig(%s)\n got: %+v\nwant: %+v", tt.json, got, want)
			}
		})
	}
}

func TestParseConfigRules(t *testing.T) {
	r, err := parseConfig([]byte(`{"threshold":0.8,"rules":[{"name":"agents","match":{"path_prefix":"/v1/responses"},"data_threshold":0.3,"mode":"monitor"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rules) != 1 {
		t.Fatalf("rules = %d, want 1", len(r.Rules))
	}
	c := r.Rules[0].Config
	if c.Policy.Threshold != 0.8 || c.Policy.DataThreshold != 0.3 || c.Mode != config.ModeMonitor || c.det == nil {
		t.Fatalf("rule config = %+v", c)
	}
	cfg, name := r.Select(&config.RequestInfo{Path: "/v1/responses", Method: "POST"})
	if name != "agents" || cfg.Policy.DataThreshold != 0.3 {
		t.Fatalf("Select = %q %+v", name, cfg.Policy)
	}
	cfg, name = r.Select(&config.RequestInfo{Path: "/v1/chat/completions", Method: "POST"})
	if name != config.DefaultRule || cfg.Policy.DataThreshold != detect.DefaultDataThreshold {
		t.Fatalf("Select = %q %+v", name, cfg.Policy)
	}
}

// TestExamples keeps the example configurations in examples/ valid.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs found (%v)", err)
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
