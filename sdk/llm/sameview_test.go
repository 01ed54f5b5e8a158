package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

var updateSameView = flag.Bool("update-sameview", false, "rewrite the expected segments of testdata/sameview.jsonl")

// sameViewCase is one line of testdata/sameview.jsonl: a request (path, content type, body) and what every
// filter sees of it: the detected format and the segments (segLine form), or the error class.
type sameViewCase struct {
	Name        string          `json:"name"`
	Path        string          `json:"path"`
	ContentType string          `json:"content_type,omitempty"`
	Options     map[string]any  `json:"options,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
	BodyText    string          `json:"body_text,omitempty"`
	Err         string          `json:"err,omitempty"`
	Format      *Format         `json:"format,omitempty"`
	Segments    []string        `json:"segments,omitempty"`
}

func (c *sameViewCase) body() []byte {
	if c.BodyText != "" {
		return []byte(c.BodyText)
	}
	return c.Body
}

func (c *sameViewCase) opts() Options {
	o := Options{Path: c.Path, ContentType: c.ContentType, Residual: true} // the view of a PII filter
	if c.Options["duplicate_keys"] == "reject" {
		o.DuplicateKeys = DuplicateKeysReject
	}
	if c.Options["generic"] == true {
		o.Generic = true
	}
	if c.Options["generic"] == nil && genericPath(c.Path) {
		o.Generic = true
	}
	return o
}

func errClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrDuplicateKey):
		return "duplicate_key"
	case errors.Is(err, ErrUnreadable):
		return "unreadable"
	case errors.Is(err, ErrUnknownFormat):
		return "unknown_format"
	case errors.Is(err, ErrInvalidJSON):
		return "invalid_json"
	case errors.Is(err, ErrInvalidShape):
		return "invalid_shape"
	}
	return "other: " + err.Error()
}

// TestSameView: the "same view" corpus. Each request shape × format (every endpoint, case variants, duplicates,
// tool definitions, metadata, encoded text, containers, generic and non-JSON bodies) parses to the listed
// segments, the view every filter gets from the pipeline; every segment's Loc holds its text in its encoding, and
// rewriting every segment keeps the body readable with the same number of segments.
func TestSameView(t *testing.T) {
	cases := readSameView(t)
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			body := c.body()
			f := DetectFormat(c.Path, body)
			req, err := ParseRequestWith(f, body, c.opts())
			var got []string
			if req != nil {
				for _, s := range req.Segments {
					got = append(got, segLine(s))
				}
				checkLocs(t, body, req.Segments)
			}
			if *updateSameView {
				c.Err, c.Segments, c.Format = errClass(err), got, &f
				return
			}
			if ec := errClass(err); ec != c.Err {
				t.Fatalf("error %q (%v), want %q", ec, err, c.Err)
			}
			if c.Format != nil && *c.Format != f {
				t.Errorf("format %q, want %q", f, *c.Format)
			}
			if strings.Join(got, "\n") != strings.Join(c.Segments, "\n") {
				t.Errorf("segments:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.Segments, "\n"))
			}
			if req == nil || len(req.Segments) == 0 {
				return
			}
			var edits []Edit
			for _, s := range req.Segments {
				edits = append(edits, s.Edit("X"))
			}
			out, err := ApplyEditsStrict(body, edits)
			if err != nil {
				t.Fatal(err)
			}
			req2, err := ParseRequestWith(f, out, c.opts())
			if err != nil || len(req2.Segments) != len(req.Segments) {
				t.Fatalf("after rewriting every segment: %v, %d segments (%s)", err, len(req2.Segments), out)
			}
			for _, s := range req2.Segments {
				if s.Text != "X" {
					t.Errorf("after rewrite: %s", segLine(s))
				}
			}
		})
	}
	if *updateSameView {
		var out bytes.Buffer
		for _, c := range cases {
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
		if err := os.WriteFile("testdata/sameview.jsonl", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readSameView(t testing.TB) []sameViewCase {
	raw, err := os.ReadFile("testdata/sameview.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var cases []sameViewCase
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c sameViewCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		cases = append(cases, c)
	}
	return cases
}

// TestAssistantsStreamAndResponse: an Assistants run stream gives text and tool-argument deltas, a completed
// message's text as a snapshot, usage and the run's status; a message list response gives assistant segments.
func TestAssistantsStreamAndResponse(t *testing.T) {
	events := []string{
		`{"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"Hel","annotations":[]}}]}}`,
		`{"id":"msg_1","object":"thread.message.delta","delta":{"content":[{"index":0,"type":"text","text":{"value":"lo"}}]}}`,
		`{"id":"step_1","object":"thread.run.step.delta","delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"q\":1}"}}]}}}`,
		`{"id":"msg_1","object":"thread.message","role":"assistant","content":[{"type":"text","text":{"value":"Hello","annotations":[]}}]}`,
		`{"id":"run_1","object":"thread.run","model":"gpt-4o","status":"completed","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
	}
	p := NewStreamParser(FormatOpenAIAssistants)
	var got []string
	for _, e := range events {
		ds, err := p.Parse(sse.Event{Data: e, HasData: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got = append(got, deltaLine(d))
			if d.Kind == DeltaText || d.Kind == DeltaToolArgs || d.Kind == DeltaSnapshot {
				var dec string
				if err := json.Unmarshal([]byte(e)[d.Loc.Start:d.Loc.End], &dec); err != nil || dec != d.Text {
					t.Errorf("delta %q: loc holds %q", d.Text, []byte(e)[d.Loc.Start:d.Loc.End])
				}
			}
		}
	}
	if p.Usage().Total != 7 || p.Model() != "gpt-4o" || p.FinishReason() != "completed" {
		t.Errorf("usage %+v model %q finish %q", p.Usage(), p.Model(), p.FinishReason())
	}
	if len(got) != 6 {
		t.Errorf("deltas:\n%s", strings.Join(got, "\n"))
	}
	resp, err := ParseResponse(FormatOpenAIAssistants, []byte(`{"object":"list","data":[{"id":"m1","object":"thread.message","role":"assistant","content":[{"type":"text","text":{"value":"answer","annotations":[]}}]},{"id":"m0","role":"user","content":[{"type":"text","text":{"value":"question"}}]}]}`))
	if err != nil || len(resp.Segments) != 2 || resp.Segments[0].Provenance != ProvAssistant || resp.Segments[1].Provenance != ProvUser {
		t.Fatalf("response: %v %+v", err, resp)
	}
	for _, f := range []Format{FormatAnthropicBatch, FormatGeminiBatch} {
		if resp, err := ParseResponse(f, []byte(`{"id":"b","processing_status":"in_progress"}`)); err != nil || len(resp.Segments) != 0 {
			t.Errorf("%s batch object: %v", f, err)
		}
	}
}
