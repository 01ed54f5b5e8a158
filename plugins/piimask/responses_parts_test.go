package piimask

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/wasmguard/wasmguard/hostsim"
)

// A streamed Responses answer whose message has several output_text parts: mask_responses judges the parts on
// their join (a value split across two parts, and across deltas, is masked), each part keeps its own bytes, and
// the events that repeat a part's text alone (output_text.done, content_part.done) or the item's parts
// (output_item.done, response.completed) carry exactly what that part's deltas carried. Before, each part was
// flushed at its output_text.done and judged alone: both halves of the value reached the client.

// responsesPartsSSE is a Responses stream (the API's complete grammar, with sequence numbers) of one message item
// whose content part i arrives as the deltas parts[i].
func responsesPartsSSE(parts [][]string) []byte {
	q := strconv.Quote
	var b strings.Builder
	seq := 0
	ev := func(typ, fields string) {
		fmt.Fprintf(&b, "event: %s\ndata: {\"type\":%q,\"sequence_number\":%d,%s}\n\n", typ, typ, seq, fields)
		seq++
	}
	part := func(t string) string {
		return `{"type":"output_text","annotations":[],"logprobs":[],"text":` + q(t) + `}`
	}
	var whole []string
	for _, p := range parts {
		whole = append(whole, part(strings.Join(p, "")))
	}
	item := func(status string, content []string) string {
		return `{"id":"msg_1","type":"message","status":"` + status + `","role":"assistant","content":[` + strings.Join(content, ",") + `]}`
	}
	resp := func(status, output, usage string) string {
		return `"response":{"id":"resp_1","object":"response","created_at":1763790000,"status":"` + status +
			`","model":"gpt-4.1-2025-04-14","output":[` + output + `],"usage":` + usage + `}`
	}
	ev("response.created", resp("in_progress", "", "null"))
	ev("response.in_progress", resp("in_progress", "", "null"))
	ev("response.output_item.added", `"output_index":0,"item":`+item("in_progress", nil))
	for ci, deltas := range parts {
		ev("response.content_part.added", fmt.Sprintf(`"item_id":"msg_1","output_index":0,"content_index":%d,"part":%s`, ci, part("")))
		for _, d := range deltas {
			ev("response.output_text.delta", fmt.Sprintf(`"item_id":"msg_1","output_index":0,"content_index":%d,"delta":%s,"logprobs":[]`, ci, q(d)))
		}
		text := strings.Join(deltas, "")
		ev("response.output_text.done", fmt.Sprintf(`"item_id":"msg_1","output_index":0,"content_index":%d,"text":%s,"logprobs":[]`, ci, q(text)))
		ev("response.content_part.done", fmt.Sprintf(`"item_id":"msg_1","output_index":0,"content_index":%d,"part":%s`, ci, part(text)))
	}
	ev("response.output_item.done", `"output_index":0,"item":`+item("completed", whole))
	ev("response.completed", resp("completed", item("completed", whole), `{"input_tokens":40,"output_tokens":30,"total_tokens":70}`))
	return []byte(b.String())
}

// readResponseParts reads a Responses stream as an SDK does: each part's text accumulated from its deltas, and
// every snapshot of a part, which must equal it; the parts' events in order (a part's deltas before its done
// events, part after part).
func readResponseParts(t *testing.T, body []byte, nparts int) []string {
	t.Helper()
	got := make([]string, nparts)
	var order []string
	snap := func(ci int64, what, text string) {
		if ci < 0 || ci >= int64(nparts) || got[ci] != text {
			t.Fatalf("%s of part %d: %q, its deltas gave %q\n%s", what, ci, text, got[max(0, min(ci, int64(nparts-1)))], body)
		}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		d := gjson.Parse(line[6:])
		ci := d.Get("content_index").Int()
		typ := d.Get("type").String()
		switch typ {
		case "response.output_text.delta":
			if ci < 0 || ci >= int64(nparts) {
				t.Fatalf("delta of part %d", ci)
			}
			got[ci] += d.Get("delta").String()
			if o := fmt.Sprintf("delta %d", ci); order[len(order)-1] != o {
				order = append(order, o)
			}
		case "response.output_text.done":
			snap(ci, typ, d.Get("text").String())
			order = append(order, fmt.Sprintf("done %d", ci))
		case "response.content_part.done":
			snap(ci, typ, d.Get("part.text").String())
			order = append(order, fmt.Sprintf("part_done %d", ci))
		case "response.content_part.added":
			order = append(order, fmt.Sprintf("part_added %d", ci))
		case "response.output_item.done", "response.completed":
			content := d.Get("item.content")
			if typ == "response.completed" {
				content = d.Get("response.output.0.content")
			}
			if n := len(content.Array()); n != nparts {
				t.Fatalf("%s has %d parts", typ, n)
			}
			for i, p := range content.Array() {
				snap(int64(i), typ, p.Get("text").String())
			}
			order = append(order, typ)
		}
	}
	var want []string
	for i := 0; i < nparts; i++ {
		want = append(want, fmt.Sprintf("part_added %d", i), fmt.Sprintf("delta %d", i), fmt.Sprintf("done %d", i), fmt.Sprintf("part_done %d", i))
	}
	want = append(want, "response.output_item.done", "response.completed")
	if g, w := strings.Join(order, ", "), strings.Join(want, ", "); g != w {
		t.Fatalf("event order %s\nwant %s", g, w)
	}
	return got
}

// deltas4 cuts s into 4-byte deltas.
func deltas4(s string) []string {
	var out []string
	for k := 0; k < len(s); k += 4 {
		out = append(out, s[k:min(k+4, len(s))])
	}
	return out
}

func TestMaskResponsesJoinedResponsesStream(t *testing.T) {
	req := jsonReq("/v1/responses", `{"model":"gpt-4.1","stream":true,"input":"hi"}`)
	for _, v := range splitValues {
		t.Run(v.name, func(t *testing.T) {
			h := newHost(t, `{"mask_responses":true}`)
			stream := responsesPartsSSE([][]string{deltas4(v.a), deltas4(v.b), {"See ", "you."}})
			want := append(strings.Split(v.want, "|"), "See you.")
			raw := strings.NewReplacer(" ", "", ".", "").Replace(v.a + v.b)
			for cut := 0; cut <= len(stream)+7; cut += 41 {
				chunks := [][]byte{stream[:min(cut, len(stream))], stream[min(cut, len(stream)):]}
				if cut > len(stream) {
					chunks = splitEvery(stream, 7)
				}
				res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
					return sseResponse(chunks...)
				})
				got := readResponseParts(t, res.Body, 3)
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Fatalf("cut %d: parts %q, want %q", cut, got, want)
				}
				// no byte of the value's halves as they came (digits, local part, domain) reaches the client
				for _, frag := range []string{v.a[len(v.a)-6:], v.b[:5]} {
					if strings.Contains(string(res.Body), frag) {
						t.Fatalf("cut %d: %q (of %s) reaches the client:\n%s", cut, frag, raw, res.Body)
					}
				}
			}
		})
	}
}

// TestRestoreResponsesStreamParts: tokenize + restore_responses + mask_responses on a streamed Responses answer of
// two parts: the placeholders (split across deltas) come back as the exact original values in the deltas and
// in every snapshot, and a card the model writes across the two parts is masked, in every split of the stream.
func TestRestoreResponsesStreamParts(t *testing.T) {
	h := newHost(t, `{"hmac_key":"test-key-0123456789abcdef","default_action":"tokenize","mask_responses":true}`)
	req := jsonReq("/v1/responses", `{"model":"gpt-4.1","stream":true,"input":[{"role":"user","content":[{"type":"input_text","text":"Write to `+email+` and call `+phone+` please"}]}]}`)
	first := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
		return sseResponse(responsesPartsSSE([][]string{{"ok"}}))
	})
	up := string(first.Upstream.Body)
	pe := placeholderRE.FindString(up)
	pp := regexp.MustCompile(`\[PHONE_[0-9A-F]{8}\]`).FindString(up)
	if pe == "" || pp == "" || strings.Contains(up, email) {
		t.Fatalf("request not tokenized: %s", up)
	}
	a := "Sure, I will mail " + pe + " and charge 4111 1111 "
	b := "1111 1111 then call " + pp + " today."
	stream := responsesPartsSSE([][]string{deltas4(a), deltas4(b)})
	want := []string{"Sure, I will mail " + email + " and charge [CREDIT_CARD]", " then call " + phone + " today."}
	for cut := 0; cut <= len(stream)+7; cut += 23 {
		chunks := [][]byte{stream[:min(cut, len(stream))], stream[min(cut, len(stream)):]}
		if cut > len(stream) {
			chunks = splitEvery(stream, 7)
		}
		res := h.DoFunc(req, func(u *hostsim.UpstreamRequest) hostsim.Response {
			return sseResponse(chunks...)
		})
		if m := anyPlaceholderRE.FindIndex(res.Body); m != nil {
			t.Fatalf("cut %d: placeholder reaches the client: ...%s...", cut, res.Body[max(0, m[0]-80):min(len(res.Body), m[1]+40)])
		}
		got := readResponseParts(t, res.Body, 2)
		if got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("cut %d: parts %q, want %q", cut, got, want)
		}
	}
}
