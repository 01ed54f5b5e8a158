package piimask

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/plugins/piimask/mask"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

func defaultConfig() Config {
	c := Config{
		Common:                config.Common{Mode: config.ModeEnforce, OnError: config.OnErrorDeny, MaxBodyBytes: config.DefaultMaxBodyBytes},
		Entities:              DefaultEntities(),
		Policy:                mask.Policy{Default: mask.Redact, Actions: map[string]mask.Action{}, KeepLast: 4, HashLen: 12},
		RestoreResponses:      true,
		UnknownFormat:         config.UnknownFormatScan,
		UnreadableAttachments: config.UnreadableAttachmentsAllow,
		BlockStatus:           400,
	}
	for _, t := range pii.AllTypes() {
		if t.IsSecret() {
			c.Policy.Actions[t.String()] = mask.Redact
		}
	}
	for _, p := range allProvenances {
		c.Provenances = append(c.Provenances, llm.Provenance(p))
	}
	return c
}

const key = `"hmac_key":"0123456789abcdef0123"`

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
		want    func(c *Config)
	}{
		{name: "empty", json: ``, want: func(*Config) {}},
		{name: "empty object", json: `{}`, want: func(*Config) {}},
		{name: "tokenize with key", json: `{` + key + `,"default_action":"tokenize","actions":{"CREDIT_CARD":"mask","US_SSN":"block"}}`,
			want: func(c *Config) {
				c.HMACKey = "0123456789abcdef0123"
				c.Policy.Default = mask.Tokenize
				c.Policy.Actions["CREDIT_CARD"] = mask.Mask
				c.Policy.Actions["US_SSN"] = mask.Block
			}},
		{name: "entities and provenances", json: `{"entities":["EMAIL","PHONE"],"provenances":["user"],"mask_responses":true,"restore_responses":false,"mask_keep_last":2,"hash_length":16,"block_status":422}`,
			want: func(c *Config) {
				c.Entities = pii.TypeSet(0).With(pii.Email).With(pii.Phone)
				c.Provenances = []llm.Provenance{llm.ProvUser}
				c.MaskResponses = true
				c.RestoreResponses = false
				c.Policy.KeepLast = 2
				c.Policy.HashLen = 16
				c.BlockStatus = 422
			}},
		{name: "secret action", json: `{"secret_action":"block"}`,
			want: func(c *Config) {
				for k := range c.Policy.Actions {
					c.Policy.Actions[k] = mask.Block
				}
			}},
		{name: "tokenize needs a key", json: `{"default_action":"tokenize"}`,
			wantErr: "hmac_key: must be a secret of at least 16 bytes when an action is hash or tokenize; got 0 bytes"},
		{name: "bad action", json: `{"default_action":"scramble"}`,
			wantErr: `default_action: must be one of allow, redact, mask, hash, tokenize, block; got "scramble"`},
		{name: "secret cannot be tokenized", json: `{` + key + `,"actions":{"AWS_ACCESS_KEY":"tokenize"}}`,
			wantErr: "actions.AWS_ACCESS_KEY: must not be tokenize for a secret (secrets are never restored); use redact, mask, hash or block"},
		{name: "secret_action tokenize", json: `{"secret_action":"tokenize"}`,
			wantErr: `secret_action: must be one of allow, redact, mask, hash, block; got "tokenize"`},
		{name: "unknown entity", json: `{"entities":["EMAIL","SHOE_SIZE"]}`,
			wantErr: `entities[1]: must be one of ` + strings.Join(entityNames(), ", ") + `; got "SHOE_SIZE"`},
		{name: "unknown action entity", json: `{"actions":{"SHOE_SIZE":"redact"}}`,
			wantErr: "actions.SHOE_SIZE: unknown entity; must be a built-in entity (" + strings.Join(entityNames(), ", ") + ") or a custom entity name"},
		{name: "bad provenance", json: `{"provenances":["robot"]}`,
			wantErr: `provenances[0]: must be one of system, user, assistant, tool_result, document, tool_call, tool_definition, metadata; got "robot"`},
		{name: "unknown key", json: `{"entites":["EMAIL"]}`, wantErr: "entites: unknown key"},
		{name: "bad unreadable attachments", json: `{"unreadable_attachments":true}`, wantErr: `unreadable_attachments: must be one of allow, deny; got true`},
		{name: "custom needs pattern or words", json: `{"custom":[{"name":"X"}]}`, wantErr: `custom[0]: needs "pattern" or "words"`},
		{name: "custom bad name", json: `{"custom":[{"name":"lower","words":["a"]}]}`, wantErr: `custom[0].name: must be UPPER_SNAKE_CASE (A-Z, 0-9, _); got "lower"`},
		{name: "custom builtin name", json: `{"custom":[{"name":"EMAIL","words":["a"]}]}`, wantErr: `custom[0].name: must not be a built-in entity name; got "EMAIL"`},
		{name: "custom empty match", json: `{"custom":[{"name":"X","pattern":"a*"}]}`, wantErr: `custom[0].pattern: must not match the empty string`},
		{name: "hmac_key in a rule", json: `{"rules":[{"match":{"path_prefix":"/x"},"hmac_key":"0123456789abcdef0123"}]}`,
			wantErr: "rules[0].hmac_key"},
		{name: "bad mode", json: `{"mode":"bogus"}`, wantErr: `mode: must be one of enforce, monitor; got "bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseConfig([]byte(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaultConfig()
			tt.want(&want)
			got := r.Default
			got.masker = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseConfigCustomAndRules(t *testing.T) {
	r, err := parseConfig([]byte(`{` + key + `,"default_action":"tokenize","custom":[{"name":"EMP","pattern":"EMP-[0-9]{6}"},{"name":"CODE","words":["Bluebird"],"secret":true}],
		"actions":{"EMP":"hash"},
		"rules":[{"name":"support","match":{"path_prefix":"/support"},"entities":["EMAIL"],"default_action":"mask"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	d := r.Default
	if len(d.Custom) != 2 || d.Custom[0].Pattern == nil || d.Policy.Actions["EMP"] != mask.Hash || d.Policy.Actions["CODE"] != mask.Redact {
		t.Fatalf("custom: %+v %+v", d.Custom, d.Policy.Actions)
	}
	res := d.masker.Apply([]byte("id EMP-123456 on bluebird for a@b.io"), &mask.Vault{}, false)
	got := string(res.Text)
	if !strings.HasPrefix(got, "id [EMP:") || !strings.Contains(got, " on [CODE] for [EMAIL_") {
		t.Fatalf("masked %q", got)
	}
	rule := r.Rules[0].Config
	if rule.Policy.Default != mask.Mask || rule.Entities != pii.TypeSet(0).With(pii.Email) || rule.HMACKey != d.HMACKey {
		t.Fatalf("rule: %+v", rule)
	}
}

func TestExamplesParse(t *testing.T) {
	files, err := filepath.Glob("examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
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
