package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeSDKResult is what e2e/nodesdk/streams.mjs prints for each helper.
type nodeSDKResult struct {
	OK     bool     `json:"ok"`
	Error  string   `json:"error"`
	Text   string   `json:"text"`
	Status any      `json:"status"`
	Finish string   `json:"finish"`
	Stop   string   `json:"stop"`
	Deltas int      `json:"deltas"`
	Types  []string `json:"types"`
	Usage  any      `json:"usage"`
	Raised bool     `json:"raised"`
	Name   string   `json:"name"`
	Code   any      `json:"code"`
}

// TestNodeSDKStreamHelpers runs the official OpenAI Node SDK's responses.stream().finalResponse() and
// chat.completions.stream().finalChatCompletion(), and the Anthropic SDK's messages.stream().finalMessage(),
// against `hostsim serve` with the four filters in front of the mock upstream (what `make run` starts). Each helper
// must complete with the whole answer, which echoes what the upstream received: the email is masked by piimask.
// A prompt injection must raise the SDK's typed 4xx error. The SDKs are installed by `make deps` (npm ci into
// e2e/nodesdk, versions pinned by its package-lock.json); with WASMGUARD_REQUIRE_E2E=1 a missing node or SDK
// fails the test.
func TestNodeSDKStreamHelpers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hostsim binary and node")
	}
	need := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("WASMGUARD_REQUIRE_E2E") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		need("node is not on PATH (Node >= 20 is needed for the SDK e2e test): %v", err)
	}
	dir := filepath.Join(repoRoot(t), "e2e", "nodesdk")
	for _, m := range []string{"openai", "@anthropic-ai/sdk"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m, "package.json")); err != nil {
			need("the %s Node SDK is not installed in e2e/nodesdk (run make deps): %v", m, err)
		}
	}
	dist := distDir(t)
	bin := buildHostsim(t)

	var local map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(repoRoot(t), "e2e", "configs", "local.json")), &local); err != nil {
		t.Fatal(err)
	}
	local["mock"] = map[string]any{"chunk_delay_ms": 2}
	b, _ := json.Marshal(local)
	cfg := filepath.Join(t.TempDir(), "serve.json")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, bin, cfg, dist)

	const email = "jane.doe@example.com"
	cmd := exec.Command(node, "streams.mjs", srv.base, "Please write to "+email+" about the invoice for March.")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("node did not finish in 3 minutes")
	}
	if err != nil {
		t.Fatalf("node streams.mjs: %v\n%s", err, out)
	}
	var res map[string]nodeSDKResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output is not JSON: %v\n%s", err, out)
	}
	for _, name := range []string{"responses", "chat", "anthropic"} {
		r, ok := res[name]
		switch {
		case !ok || !r.OK:
			t.Errorf("%s: the SDK's stream helper failed: %s", name, r.Error)
		case !strings.Contains(r.Text, "about the invoice for March") || !strings.Contains(r.Text, "[EMAIL"):
			t.Errorf("%s: final text %q does not echo the masked request", name, r.Text)
		case strings.Contains(r.Text, email):
			t.Errorf("%s: the upstream received the email: %q", name, r.Text)
		case r.Deltas < 3 || r.Usage == nil:
			t.Errorf("%s: %d text deltas, usage %v", name, r.Deltas, r.Usage)
		}
	}
	if r := res["responses"]; r.Status != "completed" || !strings.Contains(strings.Join(r.Types, ","), "response.in_progress,response.output_item.added,response.content_part.added") {
		t.Errorf("responses: status %v, events %v", r.Status, r.Types)
	}
	if r := res["chat"]; r.Finish != "stop" {
		t.Errorf("chat: finish_reason %q", r.Finish)
	}
	if r := res["anthropic"]; r.Stop != "end_turn" {
		t.Errorf("anthropic: stop_reason %q", r.Stop)
	}
	if r := res["blocked"]; !r.OK || !r.Raised || r.Status == nil || r.Code == nil {
		t.Errorf("blocked injection: %+v", r)
	} else if st, _ := r.Status.(float64); st < 400 || st > 499 {
		t.Errorf("blocked injection raised status %v", r.Status)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
