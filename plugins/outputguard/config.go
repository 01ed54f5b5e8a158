package outputguard

import (
	"fmt"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/plugins/outputguard/check"
	"github.com/wasmguard/wasmguard/sdk/config"
)

// Defaults of the configuration keys.
const (
	defaultStatus          = 403
	defaultExfilAction     = check.ActionRedact
	defaultMarkupAction    = check.ActionRedact
	defaultSecretsAction   = check.ActionRedact
	defaultLeakAction      = check.ActionBlock
	defaultSchemaAction    = actionBlock
	defaultAnnotateHeader  = "x-wasmguard-output-findings"
	defaultFromRequest     = true
	defaultBufferStreams   = false
	defaultHoldTimeoutMS   = 5000
	minHoldTimeoutMS       = 100
	maxHoldTimeoutMS       = 600_000
	maxAllowedDomains      = 1000
	maxSchemaBytes         = 256 << 10
	minNGram, maxNGram     = 4, 32
	minThreshold           = 0.1
	maxThreshold           = 5
	actionBlock            = string(check.ActionBlock)
	actionRedact           = string(check.ActionRedact)
	actionAnnotate         = string(check.ActionAnnotate)
	defaultPhraseThreshold = check.DefaultLeakPhraseThreshold
)

// Config is outputguard's configuration for one route (or the default).
type Config struct {
	config.Common
	// Status is the HTTP status of the reply that replaces a blocked non-streamed response (4xx/5xx; 4xx keeps
	// provider SDKs from retrying).
	Status int
	Check  check.Config
	// Schema validates the assistant's text as JSON (nil: no schema). SchemaAction is block or annotate.
	Schema       *check.Schema
	SchemaAction string
	// BufferStreams holds a whole streamed response until its end so JSON Schema violations (and block actions)
	// can replace it with an error reply instead of a terminal error event.
	BufferStreams bool
	// AnnotateHeader is the response header that lists finding types (when headers are held, see HoldHeaders).
	AnnotateHeader string
	// HoldHeaders holds the response headers of non-streamed JSON responses until the body is judged, so a block
	// is a real local reply (Status, provider error shape) and findings can be announced in AnnotateHeader. It
	// needs Envoy >= 1.35 with allow_on_headers_stop_iteration: true; elsewhere the response would hang (Envoy)
	// or the headers go anyway (Kong).
	HoldHeaders bool
	// HoldTimeoutMS bounds how long held headers wait for the first body callback. A host that does not deliver
	// the body while headers are held (Envoy without allow_on_headers_stop_iteration) never calls it: when the
	// time is up, the response fails under on_error deny (a provider-shaped error reply) or is released and
	// inspected without holding under allow.
	HoldTimeoutMS int64

	checker *check.Checker // compiled once per configuration
}

// parseConfig parses and validates the plugin configuration (top level and per-route rules).
func parseConfig(raw []byte) (*config.Routed[Config], error) {
	r, err := config.ParseRouted(raw, parseOne)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func parseOne(o config.Obj) Config {
	c := Config{
		Common:         config.ReadCommon(o),
		Status:         int(o.Int("status", defaultStatus, 400, 599)),
		SchemaAction:   o.Enum("json_schema_action", defaultSchemaAction, actionBlock, actionAnnotate),
		BufferStreams:  o.Bool("buffer_streams", defaultBufferStreams),
		AnnotateHeader: o.HeaderName("annotate_header", defaultAnnotateHeader),
		HoldHeaders:    o.Bool("hold_headers", false),
		HoldTimeoutMS:  o.Int("hold_timeout_ms", defaultHoldTimeoutMS, minHoldTimeoutMS, maxHoldTimeoutMS),
	}
	actions := []string{actionBlock, actionRedact, actionAnnotate}

	ex, _ := o.Object("exfiltration")
	c.Check.Exfil = check.ExfilConfig{
		Enabled:        ex.Bool("enabled", true),
		Action:         check.Action(ex.Enum("action", string(defaultExfilAction), actions...)),
		AllowedDomains: ex.StringList("allowed_domains"),
		Threshold:      ex.Float("threshold", check.DefaultExfilThreshold, minThreshold, maxThreshold),
		ImagesOnly:     ex.Bool("images_only", false),
		Placeholder:    ex.NonEmptyString("placeholder", check.DefaultURLPlaceholder),
	}
	if len(c.Check.Exfil.AllowedDomains) > maxAllowedDomains {
		ex.Errorf("allowed_domains", "must have at most %d entries; got %d", maxAllowedDomains, len(c.Check.Exfil.AllowedDomains))
	}

	mk, _ := o.Object("unsafe_markup")
	c.Check.Markup = check.MarkupConfig{
		Enabled:  mk.Bool("enabled", true),
		Action:   check.Action(mk.Enum("action", string(defaultMarkupAction), actions...)),
		ScanCode: mk.Bool("scan_code", false),
	}

	se, _ := o.Object("secrets")
	c.Check.Secrets = check.SecretsConfig{
		Enabled: se.Bool("enabled", true),
		Action:  check.Action(se.Enum("action", string(defaultSecretsAction), actions...)),
	}

	pl, _ := o.Object("prompt_leak")
	c.Check.Leak = check.LeakConfig{
		Enabled:         pl.Bool("enabled", true),
		Action:          check.Action(pl.Enum("action", string(defaultLeakAction), actions...)),
		Canaries:        pl.StringList("system_prompt_canaries"),
		SystemPrompt:    pl.String("system_prompt", ""),
		NGram:           int(pl.Int("ngram", check.DefaultLeakNGram, minNGram, maxNGram)),
		FromRequest:     pl.Bool("from_request", defaultFromRequest),
		Paraphrase:      pl.Bool("paraphrase", false),
		InjectCanary:    pl.Bool("inject_canary", false),
		Phrases:         pl.Bool("phrases", false),
		PhraseThreshold: pl.Float("phrase_threshold", defaultPhraseThreshold, minThreshold, maxThreshold),
	}

	// compile the checks; map the checker's errors onto their JSON paths
	k, err := check.Compile(c.Check)
	if err != nil {
		// check.Compile names allowed_domains[i], system_prompt_canaries[i] or system_prompt
		for _, line := range splitLines(err.Error()) {
			switch {
			case hasPrefix(line, "allowed_domains"):
				reportAt(ex, line)
			default:
				reportAt(pl, line)
			}
		}
	}
	c.checker = k

	if o.Has("json_schema") {
		raw := o.Raw("json_schema")
		switch {
		case !raw.IsObject() && raw.Type != gjson.True && raw.Type != gjson.False:
			o.Errorf("json_schema", "must be a JSON Schema object; got %s", raw.Type.String())
		case len(raw.Raw) > maxSchemaBytes:
			o.Errorf("json_schema", "must be at most %d bytes; got %d", maxSchemaBytes, len(raw.Raw))
		default:
			s, err := check.CompileSchema([]byte(raw.Raw))
			if err != nil {
				o.Errorf("json_schema", "%v", err)
			}
			c.Schema = s
		}
	}
	return c
}

// reportAt records a checker error "key[i]: msg" or "key: msg" against o at that key.
func reportAt(o config.Obj, line string) {
	for i := 0; i < len(line); i++ {
		if line[i] == ':' {
			o.Errorf(line[:i], "%s", trimSpace(line[i+1:]))
			return
		}
	}
	o.Errorf("", "%s", line)
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func trimSpace(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// describe is a short summary of a configuration, for the start-up log.
func (c *Config) describe() string {
	return fmt.Sprintf("mode=%s exfiltration=%v/%s unsafe_markup=%v/%s secrets=%v/%s prompt_leak=%v/%s json_schema=%v buffer_streams=%v hold_headers=%v",
		c.Mode, c.Check.Exfil.Enabled, c.Check.Exfil.Action, c.Check.Markup.Enabled, c.Check.Markup.Action,
		c.Check.Secrets.Enabled, c.Check.Secrets.Action, c.Check.Leak.Enabled, c.Check.Leak.Action, c.Schema != nil,
		c.BufferStreams, c.HoldHeaders)
}
