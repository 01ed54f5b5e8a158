package tokenbudget

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/wasmguard/wasmguard/plugins/tokenbudget/budget"
	"github.com/wasmguard/wasmguard/sdk/config"
)

func baseConfig() Config {
	return Config{
		Common:           config.Common{Mode: config.ModeEnforce, OnError: config.OnErrorDeny, MaxBodyBytes: config.DefaultMaxBodyBytes},
		HashConsumer:     true,
		DefaultMaxTokens: defaultMaxTokens,
		MarginPercent:    defaultMarginPercent,
		MinClampTokens:   defaultMinClampTokens,
		StreamUsage:      true,
		CutOffStreams:    true,
		Batches:          batchesMeter,
		KeyPrefix:        defaultKeyPrefix,
	}
}

func TestParseConfig(t *testing.T) {
	full := baseConfig()
	full.ConsumerHeader = "authorization"
	full.ConsumerJWTClaim = "sub"
	full.Clamp = true
	full.KeySalt = "s"
	full.Prices = budget.PriceTable{{Model: "gpt-4o*", Price: budget.Price{Input: 2.5, CachedInput: 1.25, Output: 10}}}
	full.Engine = Engine{Cluster: "webdis", Authority: "webdis", Path: "/", TimeoutMS: 100, FlushMS: defaultFlushInterval, FlushKeys: defaultFlushMaxKeys}
	full.Budgets = []budget.Def{
		{Name: "per_key", Key: []string{"consumer", "model"}, Metric: budget.MetricTotal, Scope: budget.ScopeCluster,
			Limits: []budget.Limit{{Period: budget.Minute, Max: 1000}, {Period: budget.Day, Max: 50000}}, MaxConcurrent: 4},
		{Name: "spend", Key: []string{"consumer"}, Metric: budget.MetricCost, Scope: budget.ScopeLocal, FailOpen: true,
			Limits: []budget.Limit{{Period: budget.Month, Max: 12_500_000}}, Models: []string{"gpt-4o*"}},
	}
	minimal := baseConfig()
	minimal.Budgets = []budget.Def{{Name: "b", Key: []string{"consumer"}, Metric: budget.MetricTotal, Scope: budget.ScopeLocal,
		Limits: []budget.Limit{{Period: budget.Hour, Max: 10}}}}

	cases := []struct {
		name    string
		json    string
		wantErr string
		want    *Config
	}{
		{name: "minimal", json: `{"budgets":[{"name":"b","windows":{"hour":10}}]}`, want: &minimal},
		{name: "full", json: `{"consumer_header":"Authorization","consumer_jwt_claim":"sub","clamp_max_tokens":true,"key_salt":"s",
			"prices":{"gpt-4o*":{"input":2.5,"cached_input":1.25,"output":10}},
			"engine":{"cluster":"webdis","timeout_ms":100},
			"budgets":[{"name":"per_key","key":["consumer","model"],"scope":"cluster","windows":{"minute":1000,"day":50000},"max_concurrent":4},
			{"name":"spend","metric":"cost_usd","models":["gpt-4o*"],"on_engine_error":"allow","windows":{"month":12.5}}]}`, want: &full},
		{name: "empty", json: ``, want: ptr(baseConfig())},
		{name: "empty list", json: `{"budgets":[]}`, wantErr: "budgets: must list at least one budget; got an empty list"},
		{name: "invalid json", json: `{"budgets":`, wantErr: "*"},
		{name: "unknown key", json: `{"budget":[],"budgets":[{"name":"b","windows":{"hour":1}}]}`, wantErr: "budget: unknown key"},
		{name: "bad window", json: `{"budgets":[{"name":"b","windows":{"week":5}}]}`, wantErr: "budgets[0].windows: must set at least one of minute, hour, day, month\nbudgets[0].windows.week: unknown key"},
		{name: "zero limit", json: `{"budgets":[{"name":"b","windows":{"day":0}}]}`, wantErr: "budgets[0].windows.day: must be an integer between 1 and 1125899906842624; got 0"},
		{name: "bad metric", json: `{"budgets":[{"name":"b","metric":"tokens","windows":{"day":5}}]}`, wantErr: `budgets[0].metric: must be one of total_tokens, input_tokens, output_tokens, cost_usd; got "tokens"`},
		{name: "bad batches", json: `{"batches":"sometimes"}`, wantErr: `batches: must be one of meter, allow, deny; got "sometimes"`},
		{name: "cost without prices", json: `{"budgets":[{"name":"b","metric":"cost_usd","windows":{"day":5}}]}`, wantErr: "budgets[0].metric: cost_usd needs a top-level prices table"},
		{name: "cluster without engine", json: `{"budgets":[{"name":"b","scope":"cluster","windows":{"day":5}}]}`, wantErr: "budgets[0].scope: cluster needs the top-level engine (webdis) to be configured"},
		{name: "bad key part", json: `{"budgets":[{"name":"b","key":["user"],"windows":{"day":5}}]}`, wantErr: `budgets[0].key: key[0] must be consumer, model, route, host, header:<name> or property:<path>; got "user"`},
		{name: "dup names", json: `{"budgets":[{"name":"b","windows":{"day":5}},{"name":"b","windows":{"day":5}}]}`, wantErr: `budgets[1].name: must be unique; "b" is also budgets[0].name`},
		{name: "bad name", json: `{"budgets":[{"name":"B c","windows":{"day":5}}]}`, wantErr: `budgets[0].name: must use only a-z, 0-9, _ and -; got "B c"`},
		{name: "jwt without header", json: `{"consumer_jwt_claim":"sub","budgets":[{"name":"b","windows":{"day":5}}]}`, wantErr: "consumer_jwt_claim: needs consumer_header (the header carrying the JWT)"},
		{name: "price incomplete", json: `{"prices":{"m":{"input":1}},"budgets":[{"name":"b","windows":{"day":5}}]}`, wantErr: "prices.m: must set input and output (USD per million tokens)"},
		{name: "engine in rule", json: `{"engine":{"cluster":"w"},"budgets":[{"name":"b","windows":{"day":5}}],"rules":[{"match":{"path_prefix":"/x"},"engine":{"cluster":"z"}}]}`, wantErr: "rules[0].engine: can only be set at the top level"},
		{name: "engine without cluster", json: `{"engine":{},"budgets":[{"name":"b","windows":{"day":5}}]}`, wantErr: "engine.cluster: must be set (the Envoy cluster or Kong host:port of webdis)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseConfig([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				if tc.wantErr != "*" && err.Error() != tc.wantErr {
					t.Fatalf("error:\n%s\nwant:\n%s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Default, *tc.want) {
				t.Fatalf("got  %+v\nwant %+v", r.Default, *tc.want)
			}
		})
	}
}

func TestRuleOverridesBudgets(t *testing.T) {
	r, err := parseConfig([]byte(`{"budgets":[{"name":"b","windows":{"day":5}}],
		"rules":[{"name":"batch","match":{"path_prefix":"/v1/batches"},"budgets":[{"name":"batch","windows":{"day":500}}],"mode":"monitor"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, rule := r.Select(&config.RequestInfo{Path: "/v1/batches/x"})
	if rule != "batch" || cfg.Mode != config.ModeMonitor || cfg.Budgets[0].Limits[0].Max != 500 {
		t.Fatalf("rule %q cfg %+v", rule, cfg)
	}
	cfg, rule = r.Select(&config.RequestInfo{Path: "/v1/chat/completions"})
	if rule != "default" || cfg.Budgets[0].Limits[0].Max != 5 {
		t.Fatalf("default: %q %+v", rule, cfg)
	}
}

// TestExamples parses every examples/*.json config, so the documented configs cannot rot.
func TestExamples(t *testing.T) {
	files, _ := filepath.Glob("examples/*.json")
	if len(files) == 0 {
		t.Fatal("no examples/*.json")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseConfig(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(`{"budgets":[{"name":"b","windows":{"hour":10}}]}`)
	f.Add(`{"prices":{"*":{"input":1,"output":2}},"budgets":[{"name":"b","metric":"cost_usd","windows":{"day":1.5}}],"rules":[{"match":{"host":"x"},"clamp_max_tokens":true}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseConfig([]byte(s))
		if err == nil && r == nil {
			t.Fatal("nil config without error")
		}
	})
}

func ptr[T any](v T) *T { return &v }
