// Package realhost runs the key scenarios of every filter on two hosts — hostsim and the reference host
// ../shared/tools/realhost (proxy-wasm-cpp-host, the library inside Envoy, on WAMR) — and fails where they
// disagree on what matters: the decision, statuses, the bytes the upstream and the client receive (chunk by
// chunk), headers, callbacks, logs and metrics. See README.md for how to run it and the exceptions.
package realhost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
)

// Script is realhost's JSON script (../shared/tools/realhost/README.md).
type Script struct {
	Wasm     string     `json:"wasm"`
	Plugin   Plugin     `json:"plugin"`
	Clusters any        `json:"clusters,omitempty"`
	Exchs    []Exchange `json:"exchanges"`
}

// Plugin is the script's plugin section.
type Plugin struct {
	Name          string `json:"name"`
	RootID        string `json:"root_id"`
	VMID          string `json:"vm_id"`
	Configuration string `json:"configuration"`
	AllowStopIter bool   `json:"allow_on_headers_stop_iteration,omitempty"`
}

// Exchange is one request and (when the upstream gets the whole request) its response.
type Exchange struct {
	Name       string            `json:"name"`
	RouteName  string            `json:"route_name,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
	Request    Message           `json:"request"`
	Response   *Message          `json:"response,omitempty"`
}

// Message is a request or response: headers (pseudo-headers first), body chunks, trailers.
type Message struct {
	Status         int         `json:"status,omitempty"`
	Headers        [][2]string `json:"headers"`
	BodyChunks     []string    `json:"body_chunks"`
	EmptyLastChunk bool        `json:"empty_last_chunk,omitempty"`
	Trailers       [][2]string `json:"trailers,omitempty"`
}

// Outcome is what one host did with one exchange, in a form both hosts' results map onto.
type Outcome struct {
	Callbacks       []string // "on_request_body(45,0)"
	Upstream        *Side    // nil: the upstream never got the whole request
	UpstreamHdrSent bool
	Downstream      Side
	DownstreamSent  bool // response headers went to the client
	LocalReply      int  // status of a local reply, 0 for none
	Reset, Hung     bool
	Logs            []string // plugin logs: "<level> <message>"
}

// Side is one direction's headers, body, body chunks and trailers.
type Side struct {
	Headers  []string // "name: value" in order
	Body     string
	Chunks   []string
	Trailers []string
}

func pairs(h [][2]string) []string {
	out := make([]string, 0, len(h))
	for _, kv := range h {
		out = append(out, kv[0]+": "+kv[1])
	}
	return out
}

// realhostBin is the reference host's binary (REALHOST overrides), or "" when there is none.
func realhostBin() string {
	if p := os.Getenv("REALHOST"); p != "" {
		return p
	}
	p := filepath.Join(hostsim.RepoRoot(), "..", "shared", "tools", "realhost", "bin", "realhost")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// needRealhost returns the binary or ends the test: it fails (never skips) under WASMGUARD_REQUIRE_E2E=1.
func needRealhost(t *testing.T) string {
	t.Helper()
	bin := realhostBin()
	if bin == "" {
		msg := "the reference host ../shared/tools/realhost/bin/realhost is missing (set REALHOST to its path)"
		if os.Getenv("WASMGUARD_REQUIRE_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

type rhBody struct {
	B64 string `json:"b64"`
}

func (b *rhBody) bytes(t *testing.T) string {
	if b == nil {
		return ""
	}
	d, err := base64.StdEncoding.DecodeString(b.B64)
	if err != nil {
		t.Fatalf("realhost body: %v", err)
	}
	return string(d)
}

type rhResult struct {
	Load struct {
		OK     bool     `json:"ok"`
		Stage  string   `json:"stage"`
		Errors []string `json:"errors"`
	} `json:"load"`
	Exchanges []struct {
		Name      string `json:"name"`
		Callbacks []struct {
			Cb   string `json:"cb"`
			Args []any  `json:"args"`
		} `json:"callbacks"`
		Upstream *struct {
			Headers  [][2]string `json:"headers"`
			Body     *rhBody     `json:"body"`
			Trailers [][2]string `json:"trailers"`
		} `json:"upstream"`
		UpstreamHeadersSent bool `json:"upstream_headers_sent"`
		Downstream          struct {
			HeadersSent bool        `json:"headers_sent"`
			Status      int         `json:"status"`
			Headers     [][2]string `json:"headers"`
			Body        *rhBody     `json:"body"`
			Chunks      []string    `json:"chunks"`
			Trailers    [][2]string `json:"trailers"`
		} `json:"downstream"`
		LocalReply *struct {
			Status int `json:"status"`
		} `json:"local_reply"`
		Reset    bool `json:"reset"`
		Hung     bool `json:"hung"`
		VMFailed bool `json:"vm_failed"`
		Logs     []struct {
			Level  string `json:"level"`
			Source string `json:"source"`
			Msg    string `json:"msg"`
		} `json:"logs"`
		Errors []string `json:"errors"`
	} `json:"exchanges"`
	Metrics map[string]struct {
		Value int64 `json:"value"`
	} `json:"metrics"`
}

// runRealhost runs the script on the reference host.
func runRealhost(t *testing.T, bin string, sc Script) ([]Outcome, map[string]int64) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "script.json")
	b, _ := json.Marshal(sc)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, path)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r rhResult
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("realhost: %v (%v)\n%s\n%s", err, jerr, out, stderr.String())
	}
	if !r.Load.OK {
		t.Fatalf("realhost: the plugin did not load (%s): %v", r.Load.Stage, r.Load.Errors)
	}
	if len(r.Exchanges) != len(sc.Exchs) {
		t.Fatalf("realhost: %d exchanges for %d", len(r.Exchanges), len(sc.Exchs))
	}
	var outs []Outcome
	for _, ex := range r.Exchanges {
		var o Outcome
		for _, c := range ex.Callbacks {
			if c.Cb == "on_done+on_delete" {
				continue
			}
			var args []string
			for _, a := range c.Args {
				switch v := a.(type) {
				case bool:
					args = append(args, map[bool]string{false: "0", true: "1"}[v])
				case float64:
					args = append(args, strconv.FormatInt(int64(v), 10))
				default:
					args = append(args, fmt.Sprint(v))
				}
			}
			o.Callbacks = append(o.Callbacks, c.Cb+"("+strings.Join(args, ",")+")")
		}
		if u := ex.Upstream; u != nil {
			o.Upstream = &Side{Headers: pairs(u.Headers), Body: u.Body.bytes(t), Trailers: pairs(u.Trailers)}
		}
		o.UpstreamHdrSent = ex.UpstreamHeadersSent
		d := ex.Downstream
		o.DownstreamSent = d.HeadersSent
		o.Downstream = Side{Headers: pairs(d.Headers), Body: d.Body.bytes(t), Chunks: d.Chunks, Trailers: pairs(d.Trailers)}
		if ex.LocalReply != nil {
			o.LocalReply = ex.LocalReply.Status
		}
		o.Reset, o.Hung = ex.Reset, ex.Hung
		for _, l := range ex.Logs {
			if l.Source == "plugin" {
				o.Logs = append(o.Logs, l.Level+" "+l.Msg)
			}
		}
		if ex.VMFailed || len(ex.Errors) > 0 {
			o.Logs = append(o.Logs, fmt.Sprintf("host: vm_failed=%v errors=%v", ex.VMFailed, ex.Errors))
		}
		outs = append(outs, o)
	}
	metrics := map[string]int64{}
	for k, v := range r.Metrics {
		metrics[k] = v.Value
	}
	return outs, metrics
}

var levelName = map[hostsim.LogLevel]string{hostsim.LogTrace: "trace", hostsim.LogDebug: "debug", hostsim.LogInfo: "info",
	hostsim.LogWarn: "warn", hostsim.LogError: "error", hostsim.LogCritical: "critical"}

// runHostsim runs the same script on hostsim's profile of the reference host (envoy-fullwasi: the cpp-host
// commit realhost is built from has #533's WASI) with one worker, as realhost has one worker VM.
func runHostsim(t *testing.T, wasm []byte, sc Script) ([]Outcome, map[string]int64) {
	t.Helper()
	h := hostsim.New(t, hostsim.Config{Profile: hostsim.ProfileEnvoyFullWASI, Workers: 1,
		Plugins: []hostsim.PluginSpec{{Name: sc.Plugin.Name, RootID: sc.Plugin.RootID, VMID: sc.Plugin.VMID,
			Wasm: wasm, Config: []byte(sc.Plugin.Configuration), AllowOnHeadersStopIteration: sc.Plugin.AllowStopIter}}})
	var outs []Outcome
	for _, ex := range sc.Exchs {
		req := hostsim.Request{Route: ex.RouteName, NoContentLength: true}
		for _, kv := range ex.Request.Headers {
			switch kv[0] {
			case ":authority":
				req.Authority = kv[1]
			case ":path":
				req.Path = kv[1]
			case ":method":
				req.Method = kv[1]
			case ":scheme":
			default:
				req.Headers = append(req.Headers, kv)
			}
		}
		if len(ex.Properties) > 0 {
			req.Properties = map[string][]byte{}
			for k, v := range ex.Properties {
				req.Properties[k] = []byte(v)
			}
		}
		s := h.OpenStream(0, req)
		rq := ex.Request
		trl := len(rq.Trailers) > 0
		s.SendRequestHeaders(len(rq.BodyChunks) == 0 && !trl)
		for i, c := range rq.BodyChunks {
			last := i == len(rq.BodyChunks)-1
			s.SendRequestBody([]byte(c), last && !trl && !rq.EmptyLastChunk)
		}
		if rq.EmptyLastChunk && !trl && len(rq.BodyChunks) > 0 {
			s.SendRequestBody(nil, true)
		}
		if trl {
			s.SendRequestTrailers(rq.Trailers)
		}
		if up := s.UpstreamRequest(); up != nil && ex.Response != nil {
			rs := ex.Response
			rtrl := len(rs.Trailers) > 0
			s.SendResponseHeaders(rs.Status, rs.Headers, len(rs.BodyChunks) == 0 && !rtrl)
			for i, c := range rs.BodyChunks {
				last := i == len(rs.BodyChunks)-1
				s.SendResponseBody([]byte(c), last && !rtrl && !rs.EmptyLastChunk)
			}
			if rs.EmptyLastChunk && !rtrl && len(rs.BodyChunks) > 0 {
				s.SendResponseBody(nil, true)
			}
			if rtrl {
				s.SendResponseTrailers(rs.Trailers)
			}
		}
		res := s.Close()
		var o Outcome
		for _, c := range res.Callbacks {
			name := strings.TrimPrefix(c.Name, "proxy_")
			switch name {
			case "on_request_headers", "on_request_body", "on_response_headers", "on_response_body",
				"on_request_trailers", "on_response_trailers":
				var args []string
				for _, a := range c.Args {
					args = append(args, strconv.FormatUint(a, 10))
				}
				o.Callbacks = append(o.Callbacks, name+"("+strings.Join(args, ",")+")")
			case "on_log":
				o.Callbacks = append(o.Callbacks, "on_log()")
			}
		}
		if u := res.Upstream; u != nil && s.UpstreamRequest() != nil {
			o.Upstream = &Side{Headers: pairs(u.Headers), Body: string(u.Body), Trailers: pairs(u.Trailers)}
		}
		o.UpstreamHdrSent = res.UpstreamHeadersSent
		o.DownstreamSent = len(res.Headers) > 0
		o.Downstream = Side{Headers: pairs(res.Headers), Body: string(res.Body), Trailers: pairs(res.Trailers)}
		for _, c := range res.Chunks {
			o.Downstream.Chunks = append(o.Downstream.Chunks, string(c))
		}
		if res.LocalReply {
			o.LocalReply = res.Status
		}
		o.Reset, o.Hung = res.Reset, res.Hung
		for _, l := range res.Logs {
			if l.Source == "" || l.Source == "plugin" || l.Source == "proxy_log" {
				o.Logs = append(o.Logs, levelName[l.Level]+" "+l.Message)
			}
		}
		if res.Trapped {
			o.Logs = append(o.Logs, fmt.Sprintf("host: trapped %v", res.Traps))
		}
		outs = append(outs, o)
	}
	return outs, h.Metrics()
}

// headerCountRE matches the header-count argument of a headers callback.
var headerCountRE = regexp.MustCompile(`^(on_(request|response)_headers)\(\d+,`)

// clockHeaders carry seconds until a budget window ends: they follow the wall clock, which moves between the
// two hosts' runs.
var clockHeaders = map[string]bool{"retry-after": true, "x-ratelimit-reset-tokens": true, "x-ratelimit-reset-requests": true}

// normalize removes what the hosts may legitimately report differently (README.md, "Exceptions"):
// the header count realhost records for a headers callback is the map's size after the callback (1), and
// clock-derived header values (2).
func normalize(o Outcome) Outcome {
	cbs := make([]string, len(o.Callbacks))
	for i, c := range o.Callbacks {
		cbs[i] = headerCountRE.ReplaceAllString(c, "$1(n,")
	}
	o.Callbacks = cbs
	clock := func(hs []string) []string {
		out := make([]string, len(hs))
		for i, h := range hs {
			name, _, _ := strings.Cut(h, ": ")
			if clockHeaders[name] {
				h = name + ": <clock>"
			}
			out[i] = h
		}
		return out
	}
	o.Downstream.Headers = clock(o.Downstream.Headers)
	return o
}

// clockSkew reports clock-derived header values that differ by more than the time between the runs.
func clockSkew(a, b []string, maxSkew time.Duration) []string {
	val := func(hs []string) map[string]string {
		m := map[string]string{}
		for _, h := range hs {
			if name, v, _ := strings.Cut(h, ": "); clockHeaders[name] {
				m[name] = v
			}
		}
		return m
	}
	secs := func(v string) (time.Duration, bool) {
		if d, err := time.ParseDuration(v); err == nil {
			return d, true
		}
		n, err := strconv.Atoi(v)
		return time.Duration(n) * time.Second, err == nil
	}
	var out []string
	va, vb := val(a), val(b)
	for k, x := range va {
		y := vb[k]
		dx, ok1 := secs(x)
		dy, ok2 := secs(y)
		if !ok1 || !ok2 || dx-dy > maxSkew || dy-dx > maxSkew {
			out = append(out, fmt.Sprintf("%s: hostsim %q, realhost %q (more apart than the %v between the runs)", k, x, y, maxSkew))
		}
	}
	return out
}

// diff lists the differences between the two hosts' outcomes, field by field.
func diff(a, b Outcome, skew time.Duration) []string {
	out := clockSkew(a.Downstream.Headers, b.Downstream.Headers, skew)
	a, b = normalize(a), normalize(b)
	cmp := func(field string, x, y any) {
		xs, ys := fmt.Sprintf("%q", x), fmt.Sprintf("%q", y)
		if xs != ys {
			out = append(out, fmt.Sprintf("%s:\n      hostsim  %s\n      realhost %s", field, xs, ys))
		}
	}
	cmp("callbacks", a.Callbacks, b.Callbacks)
	cmp("upstream received the request", a.Upstream != nil, b.Upstream != nil)
	if a.Upstream != nil && b.Upstream != nil {
		cmp("upstream headers", a.Upstream.Headers, b.Upstream.Headers)
		cmp("upstream body", a.Upstream.Body, b.Upstream.Body)
		cmp("upstream trailers", a.Upstream.Trailers, b.Upstream.Trailers)
	}
	cmp("upstream headers sent", a.UpstreamHdrSent, b.UpstreamHdrSent)
	cmp("downstream headers sent", a.DownstreamSent, b.DownstreamSent)
	cmp("downstream headers", a.Downstream.Headers, b.Downstream.Headers)
	cmp("downstream body", a.Downstream.Body, b.Downstream.Body)
	cmp("downstream chunks", a.Downstream.Chunks, b.Downstream.Chunks)
	cmp("downstream trailers", a.Downstream.Trailers, b.Downstream.Trailers)
	cmp("local reply status", a.LocalReply, b.LocalReply)
	cmp("reset", a.Reset, b.Reset)
	cmp("hung", a.Hung, b.Hung)
	cmp("plugin logs", a.Logs, b.Logs)
	return out
}

func diffMetrics(a, b map[string]int64) []string {
	var out []string
	names := map[string]bool{}
	for k := range a {
		names[k] = true
	}
	for k := range b {
		names[k] = true
	}
	var sorted []string
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		va, oka := a[k]
		vb, okb := b[k]
		if va != vb || oka != okb {
			out = append(out, fmt.Sprintf("metric %s: hostsim %d (defined %v), realhost %d (defined %v)", k, va, oka, vb, okb))
		}
	}
	return out
}
