package outputguard

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// hold_headers on a host that does not deliver the body to held headers (Envoy without
// allow_on_headers_stop_iteration, and the reference host: see e2e/realhost): before the watchdog the response
// hung until Envoy's idle timeout; now, hold_timeout_ms after the headers were held, the response fails with the
// provider's error (on_error deny) or goes on, inspected without holding (allow). Kong, which ignores the pause
// and trapped on the local reply, refuses the configuration at load.

// clock is a host clock a test moves forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func holdHost(t *testing.T, cfg string, allowStopIter bool, c *clock) *hostsim.Host {
	return hostsim.New(t, hostsim.Config{Workers: 1, Now: c.now, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
		Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(cfg), AllowOnHeadersStopIteration: allowStopIter}}})
}

// The combined module: outputguard's watchdog runs as a stage's OnTick; released, the response goes through
// the stages after it in response order (piimask masks the e-mail the model wrote).
func TestHoldHeadersWatchdogCombined(t *testing.T) {
	for _, onErr := range []string{"deny", "allow"} {
		c := &clock{t: time.Unix(1_800_000_000, 0)}
		h := hostsim.New(t, hostsim.Config{Workers: 1, Now: c.now, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
			Wasm: hostsim.DistWasm(t, "wasmguard"), Config: []byte(`{"piimask":{"mask_responses":true},"outputguard":{"hold_headers":true,"on_error":"` + onErr + `"}}`)}}})
		s := heldExchange(h, "mail jane.doe@example.com now")
		c.add(6 * time.Second)
		h.TickOn("outputguard", 0)
		res := s.Close()
		switch {
		case res.Hung:
			t.Errorf("%s: hung: %s", onErr, res.HungWhy)
		case onErr == "deny" && (!res.LocalReply || res.Status != 403):
			t.Errorf("deny: local %v status %d %s", res.LocalReply, res.Status, res.Body)
		case onErr == "allow" && (res.LocalReply || res.Status != 200 || answerText(t, res.Body) != "mail [EMAIL] now"):
			t.Errorf("allow: local %v status %d %s", res.LocalReply, res.Status, res.Body)
		}
	}
}

// heldExchange sends a request and a complete JSON response whose headers outputguard holds.
func heldExchange(h *hostsim.Host, answer string) *hostsim.Stream {
	req := chatRequest("sys", false)
	s := h.OpenStream(0, req)
	s.SendRequestHeaders(false)
	s.SendRequestBody(req.Body, true)
	s.SendResponseHeaders(200, [][2]string{{"content-type", "application/json"}}, false)
	s.SendResponseBody(chatCompletion(answer), true)
	return s
}

func TestHoldHeadersWatchdog(t *testing.T) {
	const cfg = `{"hold_headers":true,"secrets":{"action":"block"}}`
	t.Run("deny fails the held response", func(t *testing.T) {
		c := &clock{t: time.Unix(1_800_000_000, 0)}
		h := holdHost(t, cfg, false, c)
		s := heldExchange(h, "key "+awsKey)
		if h.TickPeriod("outputguard", 0) == 0 {
			t.Fatal("hold_headers set no tick period: nothing would end a held response")
		}
		c.add(4 * time.Second)
		h.TickOn("outputguard", 0)
		if r := s.Result(); r.Status != 0 {
			t.Fatalf("failed before hold_timeout_ms: %d %s", r.Status, r.Body)
		}
		c.add(2 * time.Second)
		h.TickOn("outputguard", 0)
		res := s.Close()
		if res.Hung || !res.LocalReply || res.Status != 403 || bytes.Contains(res.Body, []byte(awsKey)) {
			t.Fatalf("hung %v (%s) local %v status %d body %s", res.Hung, res.HungWhy, res.LocalReply, res.Status, res.Body)
		}
		if r, _ := res.Header("x-wasmguard-reason"); r != reasonHoldTimeout || !bytes.Contains(res.Body, []byte(`"code":"`+reasonHoldTimeout+`"`)) {
			t.Errorf("reason header %q body %s", r, res.Body)
		}
		if n, _ := h.Metric("wasmguard_outputguard_errors_total.reason." + reasonHoldTimeout); n != 1 {
			t.Errorf("errors_total{reason=%s} = %d", reasonHoldTimeout, n)
		}
		// the decision is logged from the watchdog's tick (hostsim files root-context logs under the host)
		d := oneDecision(t, hostsim.Result{Logs: h.Logs()})
		if d.Action != "block" || d.Reason != reasonHoldTimeout || d.RequestID != "req-1" {
			t.Errorf("decision %+v", d)
		}
		if logs := strings.Join(h.LogsAt(hostsim.LogCritical), "\n"); !strings.Contains(logs, "allow_on_headers_stop_iteration") {
			t.Errorf("the cause is not named: %s", logs)
		}
	})
	t.Run("allow releases the response and still inspects it", func(t *testing.T) {
		c := &clock{t: time.Unix(1_800_000_000, 0)}
		h := holdHost(t, `{"hold_headers":true,"hold_timeout_ms":1000,"on_error":"allow"}`, false, c)
		s := heldExchange(h, "see "+exfilImage)
		c.add(1500 * time.Millisecond)
		h.TickOn("outputguard", 0)
		res := s.Close()
		if res.Hung || res.LocalReply || res.Status != 200 {
			t.Fatalf("hung %v (%s) local %v status %d body %s", res.Hung, res.HungWhy, res.LocalReply, res.Status, res.Body)
		}
		if got := answerText(t, res.Body); got != "see ![chart]("+placeholder+")" {
			t.Errorf("client text %q: the released body was not inspected", got)
		}
		if n, _ := h.Metric("wasmguard_outputguard_errors_total.reason." + reasonHoldTimeout); n != 1 {
			t.Errorf("errors_total{reason=%s} = %d", reasonHoldTimeout, n)
		}
	})
	t.Run("a host that delivers the body is left alone", func(t *testing.T) {
		c := &clock{t: time.Unix(1_800_000_000, 0)}
		h := holdHost(t, cfg, true, c)
		for i := 0; i < 2; i++ {
			s := heldExchange(h, "Hello!")
			c.add(time.Minute)
			h.TickOn("outputguard", 0)
			res := s.Close()
			if res.Hung || res.LocalReply || res.Status != 200 || answerText(t, res.Body) != "Hello!" {
				t.Fatalf("hung %v local %v status %d body %s", res.Hung, res.LocalReply, res.Status, res.Body)
			}
		}
		if n, _ := h.Metric("wasmguard_outputguard_errors_total.reason." + reasonHoldTimeout); n != 0 {
			t.Errorf("errors_total{reason=%s} = %d", reasonHoldTimeout, n)
		}
	})
}

// Kong ignores a Pause from on_response_headers and traps on a local reply once headers went: hold_headers is
// refused at load there, with its JSON path.
func TestHoldHeadersRefusedOnKong(t *testing.T) {
	for _, cfg := range []string{`{"hold_headers":true}`, `{"rules":[{"name":"r","match":{"path_prefix":"/v1"},"hold_headers":true}]}`} {
		_, err := hostsim.Start(hostsim.Config{Profile: hostsim.ProfileKong, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
			Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(cfg)}}})
		if err == nil || !strings.Contains(err.Error(), "hold_headers: not supported on Kong") {
			t.Errorf("%s on Kong: %v", cfg, err)
		}
		h, err := hostsim.Start(hostsim.Config{Profile: hostsim.ProfileEnvoy, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
			Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(cfg)}}})
		if err != nil {
			t.Fatalf("%s on Envoy: %v", cfg, err)
		}
		h.Close()
	}
	// without hold_headers Kong loads it
	h, err := hostsim.Start(hostsim.Config{Profile: hostsim.ProfileKong, Plugins: []hostsim.PluginSpec{{Name: "outputguard",
		Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
}
