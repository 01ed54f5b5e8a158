package piimask

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wasmguard/wasmguard/plugins/piimask/mask"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

// Defaults of the settings below.
const (
	defaultAction       = "redact"
	defaultSecretAction = "redact"
	defaultKeepLast     = 4
	defaultHashLength   = 12
	defaultBlockStatus  = 400
	minKeyBytes         = 16
)

var allProvenances = []string{
	string(llm.ProvSystem), string(llm.ProvUser), string(llm.ProvAssistant),
	string(llm.ProvToolResult), string(llm.ProvDocument), string(llm.ProvToolCall),
	string(llm.ProvToolDefinition), string(llm.ProvMetadata),
}

// Config is the configuration of one route (the top level or a rule).
type Config struct {
	config.Common
	// Entities are the built-in entity types detected ("entities"; default: every rule-based type plus the
	// learned types on by default, DefaultLearned).
	Entities pii.TypeSet
	// Custom are the user-defined entities ("custom").
	Custom []pii.Custom
	// Policy holds the action per entity ("actions", "default_action", "secret_action", "mask_keep_last",
	// "hash_length").
	Policy mask.Policy
	// Provenances are the request segments masked ("provenances"; default all).
	Provenances []llm.Provenance
	// RestoreResponses puts the original values back in place of tokenize placeholders in the response of the
	// same stream ("restore_responses"; default true).
	RestoreResponses bool
	// RestoreInLinks also restores placeholders inside link constructs: URLs, link and image destinations, HTML
	// tags and attributes, autolinks, reference definitions, CSS url() ("restore_in_links"; default false: there
	// the value would go to whatever server the model named, so the placeholder stays and the decision log says
	// so).
	RestoreInLinks bool
	// MaskResponses also masks entities the model itself writes in responses ("mask_responses"; default
	// false). Tokenize acts as redact there (nothing to restore to).
	MaskResponses bool
	// UnknownFormat is what a request body of no known LLM format gets ("unknown_format": scan | allow | deny;
	// default scan: every JSON string, or the text of a text/form body, is masked like any other segment).
	UnknownFormat string
	// UnreadableAttachments is what a request with an inline attachment no text filter can read (an image, a PDF,
	// audio) gets ("unreadable_attachments": allow | deny; default allow: forwarded, its text masked, the
	// attachment counted; deny: refused with 415). Text attachments are masked whatever it says.
	UnreadableAttachments string
	// BlockStatus is the HTTP status of the reply when an entity with action block is found.
	BlockStatus int
	// HMACKey keys hash and tokenize placeholders ("hmac_key", top level only).
	HMACKey string

	masker *mask.Masker
}

func parseConfig(raw []byte) (*config.Routed[Config], error) {
	r, err := config.ParseRouted(raw, readConfig)
	if err != nil {
		return nil, err
	}
	build(&r.Default)
	for i := range r.Rules {
		build(&r.Rules[i].Config)
	}
	return r, nil
}

// build compiles the scanner and masker of a validated config.
func build(c *Config) {
	c.masker = mask.New(pii.New(c.Entities, c.Custom), c.Policy, []byte(c.HMACKey))
}

// DefaultLearned are the learned (NER) types detected when "entities" is not set: PERSON and ADDRESS, whose
// measured precision is high enough to mask by default (see README, Names and addresses); LOCATION and
// ORGANIZATION are detected only when listed in "entities".
var DefaultLearned = pii.TypeSet(0).With(pii.Person).With(pii.Address)

// DefaultOff are the rule-based types detected only when listed in "entities": AGE. Its findings are ages
// (precision 0.77 on the labels, the rest are ages the generator did not mark), but ordinary prompts name the
// ages of characters and patients whose answer needs them ("a 40 year old client with ..."; 0.7 % of them),
// and an age alone identifies no one (see README, Dates of birth and ages).
var DefaultOff = pii.TypeSet(0).With(pii.Age)

// DefaultEntities is the set detected when "entities" is not set.
func DefaultEntities() pii.TypeSet { return pii.All()&^DefaultOff | DefaultLearned }

func entityNames() []string {
	var out []string
	for _, t := range pii.AllTypes() {
		out = append(out, t.String())
	}
	return out
}

func readConfig(o config.Obj) Config {
	o.GlobalOnly("hmac_key")
	c := Config{
		Common:           config.ReadCommon(o),
		RestoreResponses: o.Bool("restore_responses", true),
		RestoreInLinks:   o.Bool("restore_in_links", false),
		MaskResponses:    o.Bool("mask_responses", false),
		UnknownFormat:    o.Enum("unknown_format", config.UnknownFormatScan, config.UnknownFormats...),
		BlockStatus:      int(o.Int("block_status", defaultBlockStatus, 400, 599)),
		HMACKey:          o.String("hmac_key", ""),

		UnreadableAttachments: o.Enum("unreadable_attachments", config.UnreadableAttachmentsAllow, config.UnreadableAttachments...),
	}
	actionNames := mask.ActionNames()

	// entities
	if o.Has("entities") {
		for i, name := range o.StringList("entities") {
			t, ok := pii.ParseType(name)
			if !ok {
				o.Errorf(fmt.Sprintf("entities[%d]", i), "must be one of %s; got %q", strings.Join(entityNames(), ", "), name)
				continue
			}
			c.Entities = c.Entities.With(t)
		}
	} else {
		c.Entities = DefaultEntities()
	}

	// custom entities
	customNames := map[string]bool{}
	for _, co := range o.Array("custom") {
		name := co.NonEmptyString("name", "")
		if name != "" {
			if !isUpperSnake(name) {
				co.Errorf("name", "must be UPPER_SNAKE_CASE (A-Z, 0-9, _); got %q", name)
			} else if _, builtin := pii.ParseType(name); builtin {
				co.Errorf("name", "must not be a built-in entity name; got %q", name)
			} else if customNames[name] {
				co.Errorf("name", "duplicate custom entity %q", name)
			}
			customNames[name] = true
		}
		cu := pii.Custom{
			Name:    name,
			Pattern: co.Regexp("pattern"),
			Words:   co.StringList("words"),
			Secret:  co.Bool("secret", false),
		}
		if cu.Pattern == nil && len(cu.Words) == 0 {
			co.Errorf("", "needs \"pattern\" or \"words\"")
		}
		if cu.Pattern != nil && cu.Pattern.MatchString("") {
			co.Errorf("pattern", "must not match the empty string")
		}
		c.Custom = append(c.Custom, cu)
	}

	// actions
	def := o.Enum("default_action", defaultAction, actionNames...)
	sec := o.Enum("secret_action", defaultSecretAction, "allow", "redact", "mask", "hash", "block")
	c.Policy.Default, _ = mask.ParseAction(def)
	c.Policy.Actions = map[string]mask.Action{}
	secAction, _ := mask.ParseAction(sec)
	for _, t := range pii.AllTypes() {
		if t.IsSecret() {
			c.Policy.Actions[t.String()] = secAction
		}
	}
	for _, cu := range c.Custom {
		if cu.Secret {
			c.Policy.Actions[cu.Name] = secAction
		}
	}
	if ao, ok := o.Object("actions"); ok {
		keys := ao.Keys()
		sort.Strings(keys)
		for _, k := range keys {
			v := ao.Enum(k, def, actionNames...)
			t, builtin := pii.ParseType(k)
			if !builtin && !customNames[k] {
				ao.Errorf(k, "unknown entity; must be a built-in entity (%s) or a custom entity name", strings.Join(entityNames(), ", "))
				continue
			}
			a, _ := mask.ParseAction(v)
			secret := builtin && t.IsSecret()
			for _, cu := range c.Custom {
				if cu.Name == k && cu.Secret {
					secret = true
				}
			}
			if a == mask.Tokenize && secret {
				ao.Errorf(k, "must not be tokenize for a secret (secrets are never restored); use redact, mask, hash or block")
			}
			c.Policy.Actions[k] = a
		}
	}
	c.Policy.KeepLast = int(o.Int("mask_keep_last", defaultKeepLast, 0, 16))
	c.Policy.HashLen = int(o.Int("hash_length", defaultHashLength, 8, 64))

	needsKey := c.Policy.Default == mask.Hash || c.Policy.Default == mask.Tokenize
	for _, a := range c.Policy.Actions {
		if a == mask.Hash || a == mask.Tokenize {
			needsKey = true
		}
	}
	if needsKey && len(c.HMACKey) < minKeyBytes {
		o.Errorf("hmac_key", "must be a secret of at least %d bytes when an action is hash or tokenize; got %d bytes", minKeyBytes, len(c.HMACKey))
	}

	// provenances
	if o.Has("provenances") {
		for i, p := range o.StringList("provenances") {
			ok := false
			for _, a := range allProvenances {
				if p == a {
					ok = true
				}
			}
			if !ok {
				o.Errorf(fmt.Sprintf("provenances[%d]", i), "must be one of %s; got %q", strings.Join(allProvenances, ", "), p)
				continue
			}
			c.Provenances = append(c.Provenances, llm.Provenance(p))
		}
	} else {
		for _, p := range allProvenances {
			c.Provenances = append(c.Provenances, llm.Provenance(p))
		}
	}
	return c
}

func isUpperSnake(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != "" && s[0] >= 'A' && s[0] <= 'Z'
}

func (c *Config) masks(p llm.Provenance) bool {
	for _, x := range c.Provenances {
		if x == p {
			return true
		}
	}
	return false
}
