package hostsim

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestStreamsOnOneVMFromSeveralGoroutines drives streams that share one VM from
// several goroutines at once (as the dev gateway does): every stream must run only
// its own deferred actions, so `go test -race` stays quiet and every answer is the
// one its own request asked for.
func TestStreamsOnOneVMFromSeveralGoroutines(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) {
		c.Workers = 1
		c.Callouts = map[string]CalloutHandler{"auth": func(CalloutRequest) CalloutResponse {
			time.Sleep(100 * time.Microsecond)
			return CalloutResponse{Status: 200, Body: []byte("ok")}
		}}
	})
	acts := []string{"deny-headers", "callout", "", "deny-body,buffer", "pause-headers"}
	const goroutines, perG = 4, 60
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				a := acts[(g+i)%len(acts)]
				req := Request{Path: "/v1/chat/completions", Headers: act(a), Body: []byte(`{"q":"evil"}`)}
				r := h.DoOn(0, req, func(*UpstreamRequest) Response { return Response{Body: []byte("upstream")} })
				want, wantBody := 200, "upstream"
				switch a {
				case "deny-headers":
					want, wantBody = 403, "denied"
				case "deny-body,buffer":
					want, wantBody = 403, ""
				case "pause-headers":
					want, wantBody = 0, ""
				}
				if r.Status != want || (wantBody != "" && string(r.Body) != wantBody) {
					errs <- fmt.Errorf("goroutine %d request %d (%q): status %d body %q; want %d %q", g, i, a, r.Status, r.Body, want, wantBody)
				}
				if a == "pause-headers" && !r.Hung {
					errs <- fmt.Errorf("goroutine %d request %d (%q): not hung", g, i, a)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
}

// TestResumeFromAnotherStream: a stream resumed from another stream's callback (the
// plugin sets the effective context to it) goes on when its own driver runs
// RunPending, also when the two streams are driven from different goroutines.
func TestResumeFromAnotherStream(t *testing.T) {
	h := conformance(t, ProfileEnvoy, "", func(c *Config) { c.Workers = 1 })
	parked := h.OpenStream(0, Request{Path: "/v1/chat/completions", Headers: act("park"), Body: []byte(`{"q":1}`)})
	parked.SendRequest()
	if parked.UpstreamRequest() != nil {
		t.Fatal("the parked stream went upstream")
	}
	done := make(chan Result)
	go func() {
		done <- h.DoOn(0, Request{Path: "/v1/chat/completions", Headers: act("wake")},
			func(*UpstreamRequest) Response { return Response{Body: []byte("woke")} })
	}()
	if r := <-done; r.Status != 200 {
		t.Fatalf("waking stream: status %d %v", r.Status, r.Traps)
	}
	parked.RunPending()
	u := parked.UpstreamRequest()
	if u == nil || string(u.Body) != `{"q":1}` {
		t.Fatalf("parked stream not resumed: %+v", u)
	}
	parked.Respond(Response{Body: []byte("ok")})
	if r := parked.Close(); r.Status != 200 || string(r.Body) != "ok" || r.Hung {
		t.Errorf("parked stream: status %d body %q hung %v", r.Status, r.Body, r.Hung)
	}
}
