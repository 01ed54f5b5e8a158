package config

import "testing"

const benchConfig = `{
  "mode": "enforce", "on_error": "deny", "max_body_bytes": 2097152, "consumer_header": "x-consumer-id",
  "threshold": 0.8, "action": "block", "deny": ["a", "b", "c"],
  "rules": [
    {"name": "internal", "match": {"host": ["*.corp.example", "llm.internal"]}, "mode": "monitor"},
    {"name": "batch", "match": {"path_prefix": ["/v1/batches", "/v1/files"], "method": "POST"}, "threshold": 0.95},
    {"name": "tenant", "match": {"headers": {"x-tenant": "acme"}, "consumer": ["alice", "bob"]}, "action": "redact"},
    {"name": "re", "match": {"path_regex": "^/openai/deployments/[^/]+/chat/completions$"}, "limit": 10}
  ]
}`

func BenchmarkParseRouted(b *testing.B) {
	raw := []byte(benchConfig)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRouted(raw, parseTest); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelect is the per-request cost: the request matches the last rule.
func BenchmarkSelect(b *testing.B) {
	r, err := ParseRouted([]byte(benchConfig), parseTest)
	if err != nil {
		b.Fatal(err)
	}
	ri := &RequestInfo{
		Host: "api.example.com:443", Path: "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21", Method: "POST",
		Consumer: "carol", Headers: [][2]string{{"x-tenant", "other"}, {"content-type", "application/json"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, rule := r.Select(ri); rule != "re" {
			b.Fatal(rule)
		}
	}
}
