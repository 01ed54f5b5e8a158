// Package bench is the overhead harness behind `make bench` (issue 7): per-request latency of each filter and of
// the four-filter chain in wasm (through hostsim) for 1 to 256 KiB bodies, the filters' native benchmarks, module
// size, instantiate time, linear memory after warm-up and after 10,000 requests, and the chain through
// `hostsim serve` under load against the same gateway without filters. Every figure that is compared is measured
// in the same run, as ratios, because these machines are noisy.
//
// The benchmark bodies (Exchange, the load generator) also run once inside `make test` (bench_test.go), so the
// harness cannot rot.
package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wasmguard/wasmguard/e2e/configs"
	"github.com/wasmguard/wasmguard/hostsim"
)

// Sizes are the request body sizes measured, in KiB.
var Sizes = []int{1, 4, 16, 64, 256}

// Filters are the four filters, in chain order.
var Filters = []string{"promptguard", "piimask", "tokenbudget", "outputguard"}

// benign is ordinary prose without PII, secrets or instructions, so every filter takes its full scan path and
// lets the request through.
const benign = "The history of bridge building is a story of materials and patience. Early builders used stone " +
	"arches that carried loads by compression, and many of those arches still stand after two thousand years. " +
	"Iron and later steel allowed longer spans, first with trusses and then with suspension cables hung from tall " +
	"towers. Engineers today model wind, traffic and temperature before a single beam is placed. "

// ChatBody is an OpenAI chat completions request of about kib KiB whose user message is benign prose.
func ChatBody(kib int) []byte {
	target := kib << 10
	var text strings.Builder
	for text.Len() < target-200 {
		text.WriteString(benign)
	}
	s := text.String()
	if len(s) > target-200 && target > 400 {
		s = s[:target-200]
	}
	b, _ := json.Marshal(map[string]any{
		"model": "gpt-4o-mini", "max_tokens": 256,
		"messages": []any{
			map[string]any{"role": "system", "content": "You are a helpful assistant."},
			map[string]any{"role": "user", "content": "Summarise this text: " + s},
		},
	})
	return b
}

// ChatAnswer is an OpenAI chat.completion whose assistant message is about kib KiB of benign prose (0: one
// short sentence).
func ChatAnswer(kib int) []byte {
	text := "Bridges evolved from stone arches to steel suspension spans."
	if kib > 0 {
		text = Text(kib)
		if len(text) > 300 {
			text = text[:len(text)-300] // room for the envelope
		}
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-bench", "object": "chat.completion", "created": 1763769600, "model": "gpt-4o-mini",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 300, "completion_tokens": len(text) / 4, "total_tokens": 300 + len(text)/4},
	})
	return b
}

// Case is one measured exchange: a request and the upstream's answer.
type Case struct {
	Request, Response []byte
}

// CaseFor is the exchange that puts kib KiB in front of a target's detection: the request body for
// promptguard, piimask and tokenbudget, the response body for outputguard, both for the chain.
func CaseFor(target string, kib int) Case {
	switch target {
	case "outputguard":
		return Case{Request: ChatBody(1), Response: ChatAnswer(kib)}
	case "chain":
		return Case{Request: ChatBody(kib), Response: ChatAnswer(kib)}
	}
	return Case{Request: ChatBody(kib), Response: ChatAnswer(0)}
}

// benchBudget is tokenbudget's configuration in the measurements: local.json's budget shape with limits no
// benchmark reaches, so every request takes the full reserve-and-settle path and none is refused.
const benchBudget = `{"mode": "enforce", "on_error": "allow", "consumer_header": "authorization", "budgets": [{"name": "per_key", "key": ["consumer"], "windows": {"minute": 1000000000000, "day": 1000000000000}}]}`

// FilterConfig is the configuration a filter is measured with: the one of e2e/configs/local.json (enforce mode),
// except tokenbudget's limits (benchBudget).
func FilterConfig(name string) ([]byte, error) {
	if name == "tokenbudget" {
		return []byte(benchBudget), nil
	}
	var local struct {
		Plugins []struct {
			Name   string          `json:"name"`
			Config json.RawMessage `json:"config"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(configs.Local, &local); err != nil {
		return nil, err
	}
	for _, p := range local.Plugins {
		if p.Name == name {
			return p.Config, nil
		}
	}
	return nil, fmt.Errorf("bench: %s is not in e2e/configs/local.json", name)
}

// Specs loads the named filters from dist as a chain.
func Specs(dist string, names ...string) ([]hostsim.PluginSpec, error) {
	var specs []hostsim.PluginSpec
	for _, n := range names {
		wasm, err := os.ReadFile(filepath.Join(dist, n+".wasm"))
		if err != nil {
			return nil, fmt.Errorf("bench: %w (run make build)", err)
		}
		cfg, err := FilterConfig(n)
		if err != nil {
			return nil, err
		}
		specs = append(specs, hostsim.PluginSpec{Name: n, Wasm: wasm, Config: cfg})
	}
	return specs, nil
}

// StartChain starts a host with one worker VM per filter (no canary) running the chain.
func StartChain(specs []hostsim.PluginSpec) (*hostsim.Host, error) {
	return hostsim.Start(hostsim.Config{Profile: hostsim.ProfileEnvoy, Workers: 1, NoCanary: true, Plugins: specs})
}

// Exchange sends one request through the host, both bodies in 16 KiB chunks as Envoy delivers them, and checks
// that the chain forwarded it and the client got the upstream's 200.
func Exchange(h *hostsim.Host, c Case) error {
	res := h.Do(hostsim.Request{
		Method: "POST", Path: "/v1/chat/completions", Authority: "api.openai.com", ChunkSize: 16 << 10,
		Headers: [][2]string{{"content-type", "application/json"}, {"authorization", "Bearer sk-bench"}},
		Body:    c.Request,
	}, hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Chunks: chunks(c.Response, 16<<10)})
	switch {
	case res.Trapped:
		return fmt.Errorf("a filter trapped: %v", res.Traps)
	case res.Upstream == nil:
		return fmt.Errorf("the request was not forwarded (status %d: %.200s)", res.Status, res.Body)
	case res.Status != 200:
		return fmt.Errorf("status %d: %.200s", res.Status, res.Body)
	}
	return nil
}

func chunks(b []byte, size int) [][]byte {
	var out [][]byte
	for len(b) > size {
		out = append(out, b[:size])
		b = b[size:]
	}
	return append(out, b)
}

// Latencies runs n exchanges and returns their durations.
func Latencies(h *hostsim.Host, c Case, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := Exchange(h, c); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// Percentile returns the p-th percentile (0..100) of ds (sorted in place).
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(p / 100 * float64(len(ds)-1))
	return ds[i]
}
