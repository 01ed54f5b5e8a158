package tokenbudget

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiktoken-go/tokenizer"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/plugins/tokenbudget/budget"
)

// repoRoot is hostsim.RepoRoot, failing the test when there is no go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root := hostsim.RepoRoot()
	if root == "" {
		t.Fatal("go.mod not found above the working directory")
	}
	return root
}

// hostsimBinary builds hostsim (or uses $HOSTSIM_BIN).
func hostsimBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOSTSIM_BIN"); p != "" {
		return p
	}
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "hostsim")
	cmd := exec.Command("go", "build", "-o", bin, "./hostsim/cmd/hostsim")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build hostsim: %v\n%s", err, out)
	}
	return bin
}

// llmUpstream is a fake OpenAI chat upstream whose usage is what a real provider would report: prompt tokens
// counted with the real cl100k BPE tokenizer (plus OpenAI's per-message framing), completion tokens drawn
// at random below max_tokens. It records the usage of every request it answered.
type llmUpstream struct {
	enc tokenizer.Codec
	mu  sync.Mutex
	in  int64
	out int64
	n   int
}

func (u *llmUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		MaxTokens     int  `json:"max_tokens"`
		Stream        bool `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad json", 400)
		return
	}
	in := 3
	for _, m := range req.Messages {
		ids, _, _ := u.enc.Encode(m.Content)
		in += len(ids) + 4
	}
	maxOut := req.MaxTokens
	if maxOut <= 0 {
		maxOut = 4096
	}
	out := 20 + rand.IntN(max(maxOut/2, 1))
	u.mu.Lock()
	u.in += int64(in)
	u.out += int64(out)
	u.n++
	u.mu.Unlock()
	usage := fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, in, out, in+out)
	if !req.Stream {
		w.Header().Set("content-type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-e2e","object":"chat.completion","model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":%s}`, req.Model, usage)
		return
	}
	w.Header().Set("content-type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	for i := 0; i < 4; i++ {
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word \"},\"finish_reason\":null}]}\n\n", req.Model)
		if fl != nil {
			fl.Flush()
		}
		time.Sleep(2 * time.Millisecond)
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[],\"usage\":%s}\n\n", req.Model, usage)
	}
	io.WriteString(w, "data: [DONE]\n\n")
}

type gatewayProc struct{ url string }

// startGateway runs `hostsim serve` with a JSON config on a free loopback port.
func startGateway(t *testing.T, bin, dist, upstream, webdisURL, pluginCfg string) *gatewayProc {
	t.Helper()
	port := freePort(t)
	cfg := fmt.Sprintf(`{"listen":"127.0.0.1:%d","admin_listen":"off","upstream":%q,"workers":2,
 "plugins":[{"name":"tokenbudget","wasm":"tokenbudget.wasm","config":%s}],
 "clusters":{"webdis":{"url":%q,"timeout_ms":2000}}}`, port, upstream, pluginCfg, webdisURL)
	path := filepath.Join(t.TempDir(), "gateway.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, "hostsim serve :"+strconv.Itoa(port), exec.Command(bin, "serve", "--config", path, "--dist", dist, "--quiet"))
	g := &gatewayProc{url: "http://127.0.0.1:" + strconv.Itoa(port)}
	waitFor(t, "gateway", func() error {
		resp, err := http.Get(g.url + "/__hostsim/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return g
}

const e2eLimit = 30000

// pluginConfig: one cluster-wide budget per tenant, hourly (the test avoids the top of the hour).
const pluginConfig = `{"engine":{"cluster":"webdis","authority":"webdis","timeout_ms":1000,"flush_interval_ms":100},
 "budgets":[{"name":"tenant","key":["header:x-tenant"],"scope":"cluster","on_engine_error":"deny","windows":{"hour":%d}}]}`

type outcome struct {
	status  int
	headers http.Header
	body    []byte
}

func fire(client *http.Client, url, tenant string, stream bool, maxTokens int, prompt string) (outcome, error) {
	body := fmt.Sprintf(`{"model":"gpt-4o","messages":[{"role":"user","content":%q}],"max_tokens":%d,"stream":%v}`, prompt, maxTokens, stream)
	req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("x-tenant", tenant)
	resp, err := client.Do(req)
	if err != nil {
		return outcome{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(bufio.NewReader(resp.Body))
	return outcome{status: resp.StatusCode, headers: resp.Header, body: b}, err
}

// TestTwoGatewaysShareOneBudget is the end-to-end test of issue 6: redis-server and webdis on loopback,
// two `hostsim serve` gateways (two worker VMs each) running the built tokenbudget.wasm against one
// cluster-wide budget, concurrent streaming and non-streaming requests. The tokens the upstream actually
// served (its reported usage) must stay within the budget plus the documented tolerance (2%: input
// estimation error on the last requests admitted), the Redis counter must equal the served usage once the
// refunds are flushed, and every 429 must carry the rate-limit headers.
func TestTwoGatewaysShareOneBudget(t *testing.T) {
	dist := hostsim.DistDir()
	hostsim.DistWasm(t, "tokenbudget") // fails in CI, skips locally, when the .wasm is missing
	e := startEngine(t)
	bin := hostsimBinary(t)
	enc, err := tokenizer.Get(tokenizer.Cl100kBase)
	if err != nil {
		t.Fatal(err)
	}
	up := &llmUpstream{enc: enc}
	upstream := httptest.NewServer(up)
	defer upstream.Close()

	// Stay clear of the top of the hour: the budget window must not roll over during the test.
	if wait := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); wait < 90*time.Second {
		t.Logf("waiting %v for the next hourly window", wait)
		time.Sleep(wait + time.Second)
	}
	cfg := fmt.Sprintf(pluginConfig, e2eLimit)
	gws := []*gatewayProc{
		startGateway(t, bin, dist, upstream.URL, e.URL(), cfg),
		startGateway(t, bin, dist, upstream.URL, e.URL(), cfg),
	}
	tenant := fmt.Sprintf("acme-%d", time.Now().UnixNano())
	prompts := []string{
		"Summarise the quarterly report in three bullet points, focusing on revenue and churn.",
		"Translate 'the meeting moved to Thursday at 10:00' into French, German and Japanese (日本語).",
		"Write a haiku about rate limits. Then explain, step by step, why token budgets should reserve before spending.",
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var mu sync.Mutex
	var ok200, n429 int
	var bad []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				g := gws[(w+i)%2]
				stream := (w+i)%3 == 0
				o, err := fire(client, g.url, tenant, stream, 200+rand.IntN(600), prompts[(w+i)%3])
				mu.Lock()
				switch {
				case err != nil:
					bad = append(bad, err.Error())
				case o.status == 200:
					ok200++
					if stream && (!bytes.HasSuffix(o.body, []byte("data: [DONE]\n\n")) || bytes.Contains(o.body, []byte(`"usage"`))) {
						bad = append(bad, fmt.Sprintf("stream body %q", o.body))
					}
				case o.status == 429:
					n429++
					if msg := check429(o); msg != "" {
						bad = append(bad, msg)
					}
				default:
					bad = append(bad, fmt.Sprintf("status %d: %s", o.status, o.body))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d bad outcomes, first: %s", len(bad), bad[0])
	}
	up.mu.Lock()
	served, n := up.in+up.out, up.n
	up.mu.Unlock()
	hour := time.Now().Unix() / 3600
	key := budget.ClusterKey(budget.CounterKey("wgtb:", "tenant", []string{tenant}, budget.Hour), hour)
	readCounter := func() int64 {
		var r struct{ GET string }
		json.Unmarshal(e.Do(t, []byte("GET/"+escapePath(key))), &r)
		v, _ := strconv.ParseInt(r.GET, 10, 64)
		return v
	}
	t.Logf("200: %d, 429: %d, upstream served %d requests, %d tokens (limit %d); redis counter right after the load %d",
		ok200, n429, n, served, e2eLimit, readCounter())
	if n != ok200 {
		t.Fatalf("upstream saw %d requests, clients got %d OKs", n, ok200)
	}
	if n429 == 0 {
		t.Fatal("the budget never refused anything: demand was meant to be ~3x the limit")
	}
	if served > e2eLimit*102/100 {
		t.Fatalf("served %d tokens, over the limit %d + 2%% tolerance", served, e2eLimit)
	}
	// Reserve-first leaves part of the budget unused when the load stops: up to 16 in-flight reservations of
	// ~530 tokens (max_tokens up to 800, real output about a quarter of it) and the refunds of the last
	// ~100 ms not yet flushed. Well under half used would mean refunds are not applied while the load runs.
	if served < e2eLimit*40/100 {
		t.Fatalf("served only %d of %d: refunds are not coming back", served, e2eLimit)
	}
	// After the flush interval the Redis counter equals the served usage (all refunds and charges applied).
	// Each worker VM sends its aggregated deltas on its tick and, under load, from the next request that
	// reaches it; small requests for another tenant nudge every VM in case the host's ticks are sparse.
	var counter int64
	waitFor(t, "reconciled counter", func() error {
		for _, g := range gws {
			for range 4 {
				fire(client, g.url, "nudge", false, 10, "hi")
			}
		}
		counter = readCounter()
		if counter != served {
			return fmt.Errorf("redis counter %d, served %d", counter, served)
		}
		return nil
	})

	// Engine down: with webdis unreachable a fail-closed budget answers 503 in OpenAI's error shape.
	stopped := startGateway(t, bin, dist, upstream.URL, "http://127.0.0.1:"+strconv.Itoa(freePort(t)), cfg)
	o, err := fire(client, stopped.url, tenant+"-x", false, 100, prompts[0])
	if err != nil || o.status != 503 || !bytes.Contains(o.body, []byte("token_budget_engine_unavailable")) {
		t.Fatalf("engine down: %d %s %v", o.status, o.body, err)
	}
}

func check429(o outcome) string {
	if o.headers.Get("x-ratelimit-limit-tokens") != strconv.Itoa(e2eLimit) {
		return "429 without x-ratelimit-limit-tokens: " + fmt.Sprint(o.headers)
	}
	rem, err := strconv.Atoi(o.headers.Get("x-ratelimit-remaining-tokens"))
	if err != nil || rem < 0 || rem > e2eLimit {
		return "429 with bad x-ratelimit-remaining-tokens: " + o.headers.Get("x-ratelimit-remaining-tokens")
	}
	ra, err := strconv.Atoi(o.headers.Get("retry-after"))
	if err != nil || ra < 1 || ra > 3600 {
		return "429 with bad retry-after: " + o.headers.Get("retry-after")
	}
	if _, err := time.ParseDuration(o.headers.Get("x-ratelimit-reset-tokens")); err != nil {
		return "429 with bad x-ratelimit-reset-tokens: " + o.headers.Get("x-ratelimit-reset-tokens")
	}
	var body struct {
		Error struct{ Code, Type string }
	}
	if json.Unmarshal(o.body, &body) != nil || body.Error.Code != "token_budget_exceeded" || body.Error.Type != "rate_limit_error" {
		return "429 body " + string(o.body)
	}
	return ""
}

func escapePath(s string) string {
	return strings.NewReplacer("|", "%7C", "/", "%2F", " ", "%20").Replace(s)
}
