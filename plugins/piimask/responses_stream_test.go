package piimask

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
)

// responsesSSE builds an OpenAI Responses API stream as the API sends it: a message item whose text arrives
// as the given deltas, then a function_call item whose arguments arrive as argDeltas, each closed by the
// *.done events that repeat the whole text, and response.completed carrying the whole output again.
func responsesSSE(textDeltas, argDeltas []string) []byte {
	text := strings.Join(textDeltas, "")
	args := strings.Join(argDeltas, "")
	q := strconv.Quote
	var b strings.Builder
	seq := 0
	ev := func(typ, fields string) {
		fmt.Fprintf(&b, "event: %s\ndata: {\"type\":%q,\"sequence_number\":%d,%s}\n\n", typ, typ, seq, fields)
		seq++
	}
	resp := func(status, output string) string {
		return `"response":{"id":"resp_1","object":"response","created_at":1763790000,"status":"` + status +
			`","model":"gpt-4.1-2025-04-14","output":[` + output + `],"usage":` + usageOrNull(status) + `}`
	}
	msgItem := func(status, t string) string {
		return `{"id":"msg_1","type":"message","status":"` + status + `","role":"assistant","content":[` + t + `]}`
	}
	part := func(t string) string {
		return `{"type":"output_text","annotations":[],"logprobs":[],"text":` + q(t) + `}`
	}
	callItem := func(status, a string) string {
		return `{"id":"fc_1","type":"function_call","status":"` + status + `","arguments":` + q(a) + `,"call_id":"call_1","name":"send_mail"}`
	}
	ev("response.created", resp("in_progress", ""))
	ev("response.in_progress", resp("in_progress", ""))
	ev("response.output_item.added", `"output_index":0,"item":`+msgItem("in_progress", ""))
	ev("response.content_part.added", `"item_id":"msg_1","output_index":0,"content_index":0,"part":`+part(""))
	for _, d := range textDeltas {
		ev("response.output_text.delta", `"item_id":"msg_1","output_index":0,"content_index":0,"delta":`+q(d)+`,"logprobs":[]`)
	}
	ev("response.output_text.done", `"item_id":"msg_1","output_index":0,"content_index":0,"text":`+q(text)+`,"logprobs":[]`)
	ev("response.content_part.done", `"item_id":"msg_1","output_index":0,"content_index":0,"part":`+part(text))
	ev("response.output_item.done", `"output_index":0,"item":`+msgItem("completed", part(text)))
	ev("response.output_item.added", `"output_index":1,"item":`+callItem("in_progress", ""))
	for _, d := range argDeltas {
		ev("response.function_call_arguments.delta", `"item_id":"fc_1","output_index":1,"delta":`+q(d))
	}
	ev("response.function_call_arguments.done", `"item_id":"fc_1","output_index":1,"arguments":`+q(args))
	ev("response.output_item.done", `"output_index":1,"item":`+callItem("completed", args))
	ev("response.completed", resp("completed", msgItem("completed", part(text))+","+callItem("completed", args)))
	return []byte(b.String())
}

func usageOrNull(status string) string {
	if status != "completed" {
		return "null"
	}
	return `{"input_tokens":40,"output_tokens":30,"total_tokens":70}`
}

// responsesClient reads a Responses stream as a client does: the streamed text and arguments, and every
// snapshot (the text repeated by *.done events and response.completed), by kind.
type responsesClient struct {
	text, args    string
	textSnapshots []string
	argSnapshots  []string
	completed     bool
}

func readResponsesStream(t *testing.T, body []byte) responsesClient {
	t.Helper()
	var c responsesClient
	ds, err := llm.ReadStream(llm.FormatOpenAIResponses, body)
	if err != nil {
		t.Fatalf("client got an unparseable stream: %v", err)
	}
	for _, d := range ds {
		switch d.Kind {
		case llm.DeltaText:
			c.text += d.Text
		case llm.DeltaToolArgs:
			c.args += d.Text
		case llm.DeltaSnapshot:
			if d.ToolName != "" {
				c.argSnapshots = append(c.argSnapshots, d.Text)
			} else {
				c.textSnapshots = append(c.textSnapshots, d.Text)
			}
		case llm.DeltaDone:
			c.completed = true
		}
	}
	return c
}

// check asserts that the client saw wantText and wantArgs both as deltas and in every snapshot: 4 text
// snapshots (output_text.done, content_part.done, output_item.done, response.completed) and 3 argument
// snapshots (function_call_arguments.done, output_item.done, response.completed).
func (c responsesClient) check(t *testing.T, cut int, wantText, wantArgs string) {
	t.Helper()
	if !c.completed {
		t.Fatalf("cut %d: no response.completed", cut)
	}
	if c.text != wantText || c.args != wantArgs {
		t.Fatalf("cut %d: streamed text %q args %q\nwant %q / %q", cut, c.text, c.args, wantText, wantArgs)
	}
	if len(c.textSnapshots) != 4 || len(c.argSnapshots) != 3 {
		t.Fatalf("cut %d: %d text snapshots and %d argument snapshots, want 4 and 3", cut, len(c.textSnapshots), len(c.argSnapshots))
	}
	for _, s := range c.textSnapshots {
		if s != wantText {
			t.Fatalf("cut %d: text snapshot %q, want %q", cut, s, wantText)
		}
	}
	for _, s := range c.argSnapshots {
		if s != wantArgs {
			t.Fatalf("cut %d: argument snapshot %q, want %q", cut, s, wantArgs)
		}
	}
}

// eventOrder checks that every streamed delta of an output item reaches the client before the item's
// *.done events (held-back text must not trail the snapshot that closes it).
func eventOrder(t *testing.T, cut int, body []byte) {
	t.Helper()
	last := map[string]int{}
	firstDone := map[string]int{}
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		switch l {
		case "event: response.output_text.delta":
			last["text"] = i
		case "event: response.function_call_arguments.delta":
			last["args"] = i
		case "event: response.output_text.done":
			if _, ok := firstDone["text"]; !ok {
				firstDone["text"] = i
			}
		case "event: response.function_call_arguments.done":
			if _, ok := firstDone["args"]; !ok {
				firstDone["args"] = i
			}
		}
	}
	for k, d := range firstDone {
		if last[k] > d {
			t.Fatalf("cut %d: a %s delta follows its .done event:\n%s", cut, k, body)
		}
	}
}

var anyPlaceholderRE = regexp.MustCompile(`\[(EMAIL|PHONE)_`)

// TestResponsesStreamSnapshotsRestored: with tokenize + restore_responses, the placeholders the model writes
// are restored in the deltas AND in the *.done / response.completed snapshots, for every split of the stream.
func TestResponsesStreamSnapshotsRestored(t *testing.T) {
	h := newHost(t, tokenizeCfg)
	req := jsonReq("/v1/responses", `{"model":"gpt-4.1","stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"Write to `+email+` and call `+phone+` please"}]}]}`)
	first := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
		return sseResponse(responsesSSE([]string{"ok"}, []string{"{}"}))
	})
	up := string(first.Upstream.Body)
	pe := placeholderRE.FindString(up)
	pp := regexp.MustCompile(`\[PHONE_[0-9A-F]{8}\]`).FindString(up)
	if pe == "" || pp == "" || strings.Contains(up, email) {
		t.Fatalf("request not tokenized: %s", up)
	}
	argsPh := `{"to":"` + pe + `","subject":"call ` + pp + `"}`
	stream := responsesSSE(
		[]string{"Sure, I'll mail ", pe[:5], pe[5:12], pe[12:] + " and call ", pp + ".", " Done"},
		[]string{argsPh[:9], argsPh[9:20], argsPh[20:]})
	wantText := "Sure, I'll mail " + email + " and call " + phone + ". Done"
	wantArgs := `{"to":"` + email + `","subject":"call ` + phone + `"}`
	for cut := 0; cut <= len(stream); cut++ {
		res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
			return sseResponse(stream[:cut], stream[cut:])
		})
		if m := anyPlaceholderRE.FindIndex(res.Body); m != nil {
			t.Fatalf("cut %d: placeholder reaches the client: ...%s...", cut, res.Body[max(0, m[0]-80):min(len(res.Body), m[1]+40)])
		}
		readResponsesStream(t, res.Body).check(t, cut, wantText, wantArgs)
		eventOrder(t, cut, res.Body)
	}
}

// TestResponsesStreamSnapshotsMasked: with mask_responses, values the model writes are masked in the deltas
// AND in the snapshots, for every split of the stream; no byte of a raw value reaches the client.
func TestResponsesStreamSnapshotsMasked(t *testing.T) {
	h := newHost(t, `{"mask_responses":true}`)
	req := jsonReq("/v1/responses", `{"model":"gpt-4.1","stream":true,"input":"hi"}`)
	text := "Your key is " + akey + " and the mail is " + email + " ok"
	args := `{"to":"` + email + `","key":"` + akey + `"}`
	stream := responsesSSE(
		[]string{"Your key is AKIAIOSF", "ODNN7EXAMPLE and the mail is ja", "ne.doe@exam", "ple.com ok"},
		[]string{args[:12], args[12:30], args[30:]})
	if !strings.Contains(string(stream), text) || !strings.Contains(string(stream), strconv.Quote(args)[1:20]) {
		t.Fatalf("test stream lacks the raw values")
	}
	wantText := "Your key is [AWS_ACCESS_KEY] and the mail is [EMAIL] ok"
	wantArgs := `{"to":"[EMAIL]","key":"[AWS_ACCESS_KEY]"}`
	for cut := 0; cut <= len(stream); cut++ {
		res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
			return sseResponse(stream[:cut], stream[cut:])
		})
		for _, v := range []string{akey, email, "AKIAIOSF", "ne.doe@exam", "ODNN7EXAMPLE"} {
			if i := strings.Index(string(res.Body), v); i >= 0 {
				t.Fatalf("cut %d: %q reaches the client: ...%s...", cut, v, res.Body[max(0, i-80):min(len(res.Body), i+40)])
			}
		}
		readResponsesStream(t, res.Body).check(t, cut, wantText, wantArgs)
		eventOrder(t, cut, res.Body)
	}
}
