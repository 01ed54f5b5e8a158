package tokenbudget

import (
	"math"
	"strings"

	"github.com/wasmguard/wasmguard/plugins/tokenbudget/budget"
	"github.com/wasmguard/wasmguard/sdk/config"
)

// Defaults of the settings below.
const (
	defaultMaxTokens      = 4096
	defaultMarginPercent  = 10
	defaultMinClampTokens = 16
	defaultKeyPrefix      = "wgtb:"
	defaultEngineTimeout  = 250 // ms
	defaultFlushInterval  = 500 // ms
	defaultFlushMaxKeys   = 256
	defaultStreamChunk    = 256     // tokens added to a reservation at a time when a stream outgrows it
	batchesMeter          = "meter" // inline batches charged in full at creation; batches the filter cannot read refused
	batchesAllow          = "allow" // every batch passes unmetered (counted)
	batchesDeny           = "deny"  // every batch is refused
	maxLimit              = int64(1) << 50
)

// Config is the configuration for one route (the top level or a rule).
type Config struct {
	config.Common
	// ConsumerJWTClaim: the consumer header holds a JWT (optionally "Bearer "); the consumer is this claim.
	ConsumerJWTClaim string
	// HashConsumer: key on a salted hash of the consumer value, never the clear value (default true).
	HashConsumer bool
	// DefaultMaxTokens is reserved for the output when the request sets no max_tokens.
	DefaultMaxTokens int64
	// EnforceMaxTokens writes DefaultMaxTokens into requests that set no limit, so the provider stops there.
	EnforceMaxTokens bool
	// MarginPercent is added to the input-token estimate before reserving.
	MarginPercent int64
	// Clamp lowers the request's max_tokens to what is left of the budget instead of refusing it, as long as
	// at least MinClampTokens remain.
	Clamp          bool
	MinClampTokens int64
	// StreamUsage adds stream_options.include_usage to OpenAI chat streams (and hides the extra usage chunk
	// from clients that did not ask for it).
	StreamUsage bool
	// CutOffStreams ends a stream with the provider's terminal frame when it outgrows its reservation and
	// the budget has no room left to extend it.
	CutOffStreams bool
	// Batches is what a batch-creation request gets (batchesMeter, batchesAllow, batchesDeny): its requests
	// generate later, on the provider's side, so no answer on this exchange reports their usage.
	Batches string
	Prices  budget.PriceTable
	Budgets []budget.Def
	// Global settings (top level only).
	Engine    Engine
	KeySalt   string
	KeyPrefix string
}

// Engine is the cluster-wide engine: webdis (HTTP front of Redis) reached with proxy_http_call.
type Engine struct {
	Cluster   string // Envoy cluster name, or host:port on Kong; "" = no cluster engine
	Authority string // :authority sent to webdis
	Path      string // POST path, "/" by default
	TimeoutMS uint32
	FlushMS   uint32 // how often reconciliation deltas are sent (aggregated per VM)
	FlushKeys int    // most keys per flush command
}

func parseConfig(raw []byte) (*config.Routed[Config], error) {
	return config.ParseRouted(raw, readConfig)
}

func readConfig(o config.Obj) Config {
	o.GlobalOnly("engine", "key_salt", "key_prefix")
	c := Config{
		Common:           config.ReadCommon(o),
		ConsumerJWTClaim: o.String("consumer_jwt_claim", ""),
		HashConsumer:     o.Bool("hash_consumer", true),
		DefaultMaxTokens: o.Int("default_max_tokens", defaultMaxTokens, 1, 10_000_000),
		EnforceMaxTokens: o.Bool("enforce_max_tokens", false),
		MarginPercent:    o.Int("estimate_margin_percent", defaultMarginPercent, 0, 500),
		Clamp:            o.Bool("clamp_max_tokens", false),
		MinClampTokens:   o.Int("min_clamp_tokens", defaultMinClampTokens, 1, 1_000_000),
		StreamUsage:      o.Bool("stream_usage", true),
		CutOffStreams:    o.Bool("cut_off_streams", true),
		Batches:          o.Enum("batches", batchesMeter, batchesMeter, batchesAllow, batchesDeny),
		KeySalt:          o.String("key_salt", ""),
		KeyPrefix:        o.NonEmptyString("key_prefix", defaultKeyPrefix),
	}
	if c.ConsumerJWTClaim != "" && c.ConsumerHeader == "" {
		o.Errorf("consumer_jwt_claim", "needs consumer_header (the header carrying the JWT)")
	}
	c.Prices = readPrices(o)
	if eo, ok := o.Object("engine"); ok {
		c.Engine = Engine{
			Cluster:   eo.NonEmptyString("cluster", ""),
			Authority: eo.String("authority", ""),
			Path:      eo.String("path", "/"),
			TimeoutMS: uint32(eo.Int("timeout_ms", defaultEngineTimeout, 1, 60_000)),
			FlushMS:   uint32(eo.Int("flush_interval_ms", defaultFlushInterval, 10, 60_000)),
			FlushKeys: int(eo.Int("flush_max_keys", defaultFlushMaxKeys, 1, 10_000)),
		}
		if c.Engine.Cluster == "" {
			eo.Errorf("cluster", "must be set (the Envoy cluster or Kong host:port of webdis)")
		}
		if c.Engine.Authority == "" {
			c.Engine.Authority = c.Engine.Cluster
		}
		if !strings.HasPrefix(c.Engine.Path, "/") {
			eo.Errorf("path", "must start with /; got %q", c.Engine.Path)
		}
	}
	failOpen := c.OnError == config.OnErrorAllow
	for i, bo := range o.Array("budgets") {
		c.Budgets = append(c.Budgets, readBudget(bo, failOpen, &c))
		for j := 0; j < i; j++ {
			if c.Budgets[j].Name == c.Budgets[i].Name && c.Budgets[i].Name != "" {
				bo.Errorf("name", "must be unique; %q is also budgets[%d].name", c.Budgets[i].Name, j)
			}
		}
	}
	// No "budgets" at all is accepted (the filter then only passes traffic and says so at start), so a
	// shared chain config can include the filter before budgets are decided; an explicit empty list is a
	// mistake.
	if o.Has("budgets") && len(c.Budgets) == 0 {
		o.Errorf("budgets", "must list at least one budget; got an empty list")
	}
	return c
}

func readPrices(o config.Obj) budget.PriceTable {
	po, ok := o.Object("prices")
	if !ok {
		return nil
	}
	var pt budget.PriceTable
	for _, model := range po.Keys() {
		mo, ok := po.Object(model)
		if !ok {
			continue
		}
		if model == "" || strings.Contains(model[:len(model)-1], "*") {
			po.Errorf(model, "a model name or a prefix ending in *; got %q", model)
		}
		p := budget.Price{
			Input:       mo.Float("input", 0, 0, 1e6),
			CachedInput: mo.Float("cached_input", 0, 0, 1e6),
			Output:      mo.Float("output", 0, 0, 1e6),
			Reasoning:   mo.Float("reasoning", 0, 0, 1e6),
		}
		if !mo.Has("input") || !mo.Has("output") {
			mo.Errorf("", "must set input and output (USD per million tokens)")
		}
		pt = append(pt, budget.PriceEntry{Model: model, Price: p})
	}
	return pt
}

var periods = []string{"minute", "hour", "day", "month"}

func readBudget(o config.Obj, failOpen bool, c *Config) budget.Def {
	d := budget.Def{
		Name:          o.NonEmptyString("name", ""),
		Models:        o.StringList("models"),
		MaxConcurrent: o.Int("max_concurrent", 0, 0, 1_000_000),
	}
	if d.Name == "" {
		o.Errorf("name", "must be set (a short name such as \"per_key\")")
	} else if !validName(d.Name) {
		o.Errorf("name", "must use only a-z, 0-9, _ and -; got %q", d.Name)
	}
	m, _ := budget.ParseMetric(o.Enum("metric", "total_tokens", "total_tokens", "input_tokens", "output_tokens", "cost_usd"))
	d.Metric = m
	scope := o.Enum("scope", "local", "local", "cluster")
	d.Scope = budget.ScopeLocal
	if scope == "cluster" {
		d.Scope = budget.ScopeCluster
		if c.Engine.Cluster == "" {
			o.Errorf("scope", "cluster needs the top-level engine (webdis) to be configured")
		}
	}
	def := "deny"
	if failOpen {
		def = "allow"
	}
	d.FailOpen = o.Enum("on_engine_error", def, "allow", "deny") == "allow"
	if o.Has("key") {
		d.Key = o.StringList("key")
		if len(d.Key) == 0 {
			o.Errorf("key", "must list at least one part (consumer, model, route, host, header:<name>, property:<path>)")
		}
	} else {
		d.Key = []string{"consumer"}
	}
	for i, p := range d.Key {
		if !validKeyPart(p) {
			o.Errorf("key", "key[%d] must be consumer, model, route, host, header:<name> or property:<path>; got %q", i, p)
		}
	}
	if d.Metric == budget.MetricCost && len(c.Prices) == 0 {
		o.Errorf("metric", "cost_usd needs a top-level prices table")
	}
	wo, ok := o.Object("windows")
	if !ok {
		o.Errorf("windows", "must set at least one of minute, hour, day, month")
		return d
	}
	for _, name := range periods {
		if !wo.Has(name) {
			continue
		}
		p, _ := budget.ParsePeriod(name)
		var limit int64
		if d.Metric == budget.MetricCost {
			usd := wo.Float(name, 0, 0.000001, 1e9)
			limit = int64(math.Round(usd * 1e6))
		} else {
			limit = wo.Int(name, 0, 1, maxLimit)
		}
		d.Limits = append(d.Limits, budget.Limit{Period: p, Max: limit})
	}
	if len(d.Limits) == 0 {
		o.Errorf("windows", "must set at least one of minute, hour, day, month")
	}
	return d
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return len(s) <= 48
}

func validKeyPart(p string) bool {
	switch p {
	case "consumer", "model", "route", "host":
		return true
	}
	if path, ok := strings.CutPrefix(p, "property:"); ok {
		return path != "" && !strings.HasPrefix(path, ".") && !strings.HasSuffix(path, ".") && !strings.Contains(path, "..")
	}
	name, ok := strings.CutPrefix(p, "header:")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
