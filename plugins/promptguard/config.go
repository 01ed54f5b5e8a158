package promptguard

import (
	"fmt"
	"regexp"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Defaults of the configuration keys.
const (
	defaultAction       = actionBlock
	defaultStatus       = 400
	defaultMaxScanBytes = 1 << 20 // ordinary traffic (a 1 MiB body) is scanned whole
	defaultPayloadSplit = true
	defaultMaxSegments  = 10000 // 2,000 messages with a few content parts each are scanned whole
	maxPhrases          = 1000
)

// Actions.
const (
	actionBlock    = "block"
	actionAnnotate = "annotate"
)

// allProvenances are every provenance sdk/llm gives a segment; all are inspected by default (#10.5): a client
// can put an attack in its system/developer text, an assistant prefix turn or a tool definition as easily as
// in a user turn, so no role is trusted unless a route says so (trusted_roles).
var allProvenances = []string{
	string(llm.ProvSystem), string(llm.ProvUser), string(llm.ProvAssistant), string(llm.ProvToolResult),
	string(llm.ProvDocument), string(llm.ProvToolCall), string(llm.ProvToolDefinition),
}

// Config is promptguard's configuration for one route (or the default).
type Config struct {
	config.Common
	Action string // block | annotate
	Status int    // HTTP status of a block reply (4xx)
	// UnknownFormat is what a request body of no known LLM format gets: scan | allow | deny.
	UnknownFormat string
	Policy        detect.Policy
	// Deny and Allow phrases (canonicalised like the inspected text).
	DenyPhrases, AllowPhrases []string
	// DocumentMarkers make user text starting with one of them count as a document (llm.Options).
	DocumentMarkers []string
	det             *detect.Detector // built once per configuration, shared by requests of one VM

	// UnreadableAttachments is what a request with an inline attachment no text filter can read (an image, a PDF,
	// audio) gets: allow (forwarded, its text scanned, the attachment counted) | deny (refused with 415).
	UnreadableAttachments string
}

// parseConfig parses and validates the plugin configuration (top level and per-route rules).
func parseConfig(raw []byte) (*config.Routed[Config], error) {
	r, err := config.ParseRouted(raw, parseOne)
	if err != nil {
		return nil, err
	}
	r.Default.det = newDetector(&r.Default)
	for i := range r.Rules {
		r.Rules[i].Config.det = newDetector(&r.Rules[i].Config)
	}
	return r, nil
}

func newDetector(c *Config) *detect.Detector {
	return detect.New(detect.Options{Deny: c.DenyPhrases, Allow: c.AllowPhrases})
}

func parseOne(o config.Obj) Config {
	c := Config{
		Common:        config.ReadCommon(o),
		Action:        o.Enum("action", defaultAction, actionBlock, actionAnnotate),
		UnknownFormat: o.Enum("unknown_format", config.UnknownFormatScan, config.UnknownFormats...),
		Status:        int(o.Int("status", defaultStatus, 400, 499)),

		UnreadableAttachments: o.Enum("unreadable_attachments", config.UnreadableAttachmentsAllow, config.UnreadableAttachments...),
	}
	scan := allProvenances
	if o.Has("scan") {
		scan = o.StringList("scan")
		if len(scan) == 0 {
			o.Errorf("scan", "must list at least one of %s; got an empty list", joinList(allProvenances))
		}
	}
	trusted := o.StringList("trusted_roles")
	for i, s := range trusted {
		if !contains(allProvenances, s) {
			o.Errorf(fmt.Sprintf("trusted_roles[%d]", i), "must be one of %s; got %q", joinList(allProvenances), s)
		}
	}
	for i, s := range scan {
		if !contains(allProvenances, s) {
			o.Errorf(fmt.Sprintf("scan[%d]", i), "must be one of %s; got %q", joinList(allProvenances), s)
			continue
		}
		if !contains(trusted, s) {
			c.Policy.Scan = append(c.Policy.Scan, llm.Provenance(s))
		}
	}
	if len(scan) > 0 && len(c.Policy.Scan) == 0 {
		o.Errorf("trusted_roles", "must leave at least one provenance of scan inspected; got %q", joinList(trusted))
	}
	c.Policy.Threshold = o.Float("threshold", detect.DefaultThreshold, 0, 1)
	c.Policy.DataThreshold = o.Float("data_threshold", detect.DefaultDataThreshold, 0, 1)
	if th, ok := o.Object("thresholds"); ok {
		c.Policy.Thresholds = map[llm.Provenance]float64{}
		for _, k := range th.Keys() {
			if !contains(allProvenances, k) {
				th.Errorf(k, "is not a provenance: must be one of %s", joinList(allProvenances))
				continue
			}
			if !th.Has(k) {
				th.Errorf(k, "must be a number between 0 and 1; got null")
				continue
			}
			c.Policy.Thresholds[llm.Provenance(k)] = th.Float(k, 0, 0, 1)
		}
	}
	c.Policy.MaxScanBytes = int(o.Int("max_scan_bytes", defaultMaxScanBytes, 1024, config.MaxMaxBodyBytes))
	c.Policy.MaxSegments = int(o.Int("max_scan_segments", defaultMaxSegments, 1, 100000))
	c.Policy.PayloadSplit = o.Bool("payload_split", defaultPayloadSplit)
	c.DenyPhrases = phrases(o, "deny_phrases")
	c.AllowPhrases = phrases(o, "allow_phrases")
	c.Policy.DenyPatterns = patterns(o, "deny_patterns")
	c.Policy.AllowPatterns = patterns(o, "allow_patterns")
	c.DocumentMarkers = o.StringList("document_markers")
	return c
}

func phrases(o config.Obj, key string) []string {
	list := o.StringList(key)
	if len(list) > maxPhrases {
		o.Errorf(key, "must have at most %d entries; got %d", maxPhrases, len(list))
		return nil
	}
	for i, p := range list {
		if detect.Canonical(p) == "" {
			o.Errorf(fmt.Sprintf("%s[%d]", key, i), "must contain letters or digits; got %q", p)
		}
	}
	return list
}

func patterns(o config.Obj, key string) []*regexp.Regexp {
	list := o.StringList(key)
	var out []*regexp.Regexp
	for i, p := range list {
		re, err := regexp.Compile(p)
		if err != nil {
			o.Errorf(fmt.Sprintf("%s[%d]", key, i), "must be a valid RE2 regular expression; got %q (%v)", p, err)
			continue
		}
		out = append(out, re)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func joinList(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
