package telemetry

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestDecisionString(t *testing.T) {
	tests := []struct {
		name string
		d    Decision
		want string
	}{
		{"minimal", Decision{Filter: "promptguard", Action: "allow"},
			`wasmguard decision {"filter":"promptguard","action":"allow"}`},
		{"full", Decision{Filter: "piimask", Rule: "default", Action: "redact", Reason: "pii_masked", Mode: "monitor",
			RequestID: "9f1c-2", Score: 0.93, Signals: []string{"email", "iban"},
			Findings: []Finding{{Type: "email", Segment: 1, Start: 10, End: 27, Score: 1}},
			Attrs:    []Attr{{"input_tokens", 812}, {"ratio", 0.5}}},
			`wasmguard decision {"filter":"piimask","rule":"default","action":"redact","reason":"pii_masked","mode":"monitor","request_id":"9f1c-2","score":0.93,"signals":["email","iban"],"findings":[{"type":"email","segment":1,"start":10,"end":27,"score":1}],"attrs":{"input_tokens":812,"ratio":0.5}}`},
		{"codes sanitised", Decision{Filter: "promptguard", Action: "block", Signals: []string{`ignore all "previous" instructions`}},
			`wasmguard decision {"filter":"promptguard","action":"block","signals":["ignore_all__previous__instructions"]}`},
		{"request id escaped", Decision{Filter: "f", Action: "a", RequestID: "x\"\n\\\x01\u2028\xff"},
			`wasmguard decision {"filter":"f","action":"a","request_id":"x\"\u000a\\\u0001\u2028\ufffd"}`},
		{"non-finite score", Decision{Filter: "f", Action: "a", Score: math.NaN(), Findings: []Finding{{Type: "t", Score: math.Inf(1)}}},
			`wasmguard decision {"filter":"f","action":"a","findings":[{"type":"t","segment":0,"start":0,"end":0,"score":0}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.d.String()
			if got != tc.want {
				t.Fatalf("\n got: %s\nwant: %s", got, tc.want)
			}
			if strings.ContainsAny(got, "\n\r") {
				t.Fatal("decision line spans several lines")
			}
			if !gjson.Valid(strings.TrimPrefix(got, Prefix)) {
				t.Fatal("JSON part is invalid")
			}
		})
	}
}

func TestLongFieldsCut(t *testing.T) {
	d := Decision{Filter: strings.Repeat("f", 100), Action: "a", RequestID: strings.Repeat("é", 100)}
	got, ok := ParseDecision(d.String())
	if !ok {
		t.Fatal("not parsed")
	}
	if len(got.Filter) != 64 || len(got.RequestID) != 128 {
		t.Fatalf("filter %d bytes, request id %d bytes", len(got.Filter), len(got.RequestID))
	}
}

func TestParseDecisionRoundTrip(t *testing.T) {
	d := Decision{Filter: "outputguard", Rule: "rule_1", Action: "block", Reason: "schema_violation", RequestID: "r-1",
		Score: 0.5, Signals: []string{"json_invalid"}, Findings: []Finding{{"secret", 2, 0, 40, 1}, {"url", 0, 3, 9, 0.25}},
		Attrs: []Attr{{"output_tokens", 77}}}
	for _, line := range []string{
		d.String(),
		"[2026-11-22 04:00:00.000][15][info][wasm] [source/extensions/common/wasm/context.cc:1195] wasm log outputguard: " + d.String(),
		`2026/11/22 04:00:00 [info] 1#0: *3 [proxy-wasm]["outputguard" #1] ` + d.String() + `, client: 127.0.0.1, server: kong, request: "POST /v1 HTTP/1.1"`,
	} {
		got, ok := ParseDecision(line)
		if !ok {
			t.Fatalf("ParseDecision(%q) failed", line)
		}
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("round trip\n got: %+v\nwant: %+v", got, d)
		}
	}
	for _, bad := range []string{"", "wasmguard decision", "wasmguard decision {", `wasmguard decision {"action":"a"}`, `wasmguard decision []`, "other line"} {
		if _, ok := ParseDecision(bad); ok {
			t.Errorf("ParseDecision(%q) accepted", bad)
		}
	}
}

func TestMetricName(t *testing.T) {
	if got := MetricName("promptguard", "requests_total"); got != "wasmguard_promptguard_requests_total" {
		t.Fatal(got)
	}
	if got := MetricName("Pii-Mask", "found total"); got != "wasmguard_pii_mask_found_total" {
		t.Fatal(got)
	}
	got := Tagged(MetricName("promptguard", "decisions_total"), "action", "block", "reason", "Prompt Injection", "rule", "")
	if got != "wasmguard_promptguard_decisions_total.action.block.reason.prompt_injection.rule.none" {
		t.Fatal(got)
	}
	if got := Tagged("m", "odd"); got != "m" {
		t.Fatal(got)
	}
}

func FuzzParseDecision(f *testing.F) {
	f.Add("x", "y", "rid", 0.5, "sig")
	f.Add("", "\x00\"", "\xff\xfe", math.Inf(-1), "")
	f.Fuzz(func(t *testing.T, filter, action, rid string, score float64, sig string) {
		d := Decision{Filter: filter, Action: action, RequestID: rid, Score: score, Signals: []string{sig}}
		line := d.String()
		if strings.ContainsAny(line, "\n\r") {
			t.Fatalf("multi-line: %q", line)
		}
		got, ok := ParseDecision(line)
		if filter == "" || action == "" {
			return
		}
		if !ok {
			t.Fatalf("not parsed: %q", line)
		}
		if got.Filter != SafeCode(filter) || got.Action != SafeCode(action) || got.Signals[0] != SafeCode(sig) {
			t.Fatalf("codes changed: %+v", got)
		}
		if !math.IsNaN(score) && !math.IsInf(score, 0) && got.Score != score {
			t.Fatalf("score %v != %v", got.Score, score)
		}
	})
}

func BenchmarkDecisionString(b *testing.B) {
	d := Decision{Filter: "piimask", Rule: "default", Action: "redact", Reason: "pii_masked", RequestID: "9f1c",
		Score: 1, Findings: []Finding{{"email", 1, 10, 27, 1}, {"phone", 1, 40, 52, 0.9}}}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.String()
	}
}
