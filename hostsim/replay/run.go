package replay

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// Runner replays records through one filter loaded in hostsim (one worker VM, no canary: the figures are about
// detection, not host behaviour).
type Runner struct {
	Filter string
	host   *hostsim.Host
}

// NewRunner loads the filter's .wasm with its configuration; a configuration the filter refuses is an error
// carrying the filter's logs.
func NewRunner(filter string, wasm, config []byte, profile hostsim.Profile) (*Runner, error) {
	h, err := hostsim.Start(hostsim.Config{
		Profile: profile, Workers: 1, NoCanary: true,
		Plugins: []hostsim.PluginSpec{{Name: filter, Wasm: wasm, Config: config}},
	})
	if err != nil {
		return nil, fmt.Errorf("replay: start %s: %w", filter, err)
	}
	return &Runner{Filter: filter, host: h}, nil
}

// Close releases the VM.
func (r *Runner) Close() { r.host.Close() }

// Result is one replayed record: what the filter did and the decisions it logged.
type Result struct {
	Outcome
	Decisions []telemetry.Decision
	Upstream  bool // the request reached the upstream
}

// Run wraps one record, sends it through the filter and reads the outcome.
func (r *Runner) Run(s Schema, rec *Record) Result {
	x := Wrap(s, rec)
	res := r.host.Do(hostsim.Request{
		Method: x.Method, Path: x.Path, Authority: x.Authority, Headers: x.Headers, Body: x.Body,
	}, hostsim.Response{Status: 200, Headers: x.ResponseHeaders, Body: x.Response})
	out := Result{Upstream: res.Upstream != nil}
	out.Status = res.Status
	out.Blocked = res.LocalReply
	if res.Trapped {
		out.Err = fmt.Sprintf("trap: %v", res.Traps)
	}
	for _, e := range res.Logs {
		d, ok := telemetry.ParseDecision(e.Message)
		if !ok || (d.Filter != r.Filter && d.Filter != "") {
			continue
		}
		out.Decisions = append(out.Decisions, d)
	}
	seg := segmentOf(&x)
	for _, d := range out.Decisions {
		if d.Action != "" && d.Action != "allow" {
			out.Flagged = true
			if out.Reason == "" {
				out.Reason = d.Reason
			}
		}
		if d.Score > out.Score {
			out.Score = d.Score
		}
		for _, f := range d.Findings {
			if seg >= 0 && f.Segment == seg {
				out.Spans = append(out.Spans, Span{Type: f.Type, Start: f.Start, End: f.End})
			}
		}
	}
	if res.LocalReply && res.Status >= 400 {
		out.Flagged = true
	}
	return out
}

// segmentOf finds the index of the segment holding the record text, as the filter's findings number them
// (sdk/llm's parse of the wrapped request, or of the response for output records); -1 when not found.
func segmentOf(x *Exchange) int {
	var segs []llm.Segment
	if x.Placement == PlaceAssistant {
		resp, err := llm.ParseResponse(llm.FormatOpenAIChat, x.Response)
		if err != nil {
			return -1
		}
		segs = resp.Segments
	} else {
		req, err := llm.ParseRequest(llm.FormatOpenAIChat, x.Body)
		if err != nil {
			return -1
		}
		segs = req.Segments
	}
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].Text == x.Text {
			return segs[i].Index
		}
	}
	return -1
}

// Progress receives the count of replayed records now and then.
type Progress func(done, total int, elapsed time.Duration)

// RunAll replays every record and returns the results in order.
func (r *Runner) RunAll(s Schema, recs []Record, progress Progress) []Result {
	out := make([]Result, len(recs))
	start := time.Now()
	last := start
	for i := range recs {
		out[i] = r.Run(s, &recs[i])
		if progress != nil && (time.Since(last) > 2*time.Second || i == len(recs)-1) {
			last = time.Now()
			progress(i+1, len(recs), time.Since(start))
		}
	}
	return out
}

// Outcomes extracts the scored part of results.
func Outcomes(rs []Result) []Outcome {
	out := make([]Outcome, len(rs))
	for i := range rs {
		out[i] = rs[i].Outcome
	}
	return out
}

// TextProgress prints "label: 500/2610 (19%), 41 rec/s" lines to w.
func TextProgress(w io.Writer, label string) Progress {
	return func(done, total int, el time.Duration) {
		rate := float64(done) / el.Seconds()
		fmt.Fprintf(w, "%s: %d/%d (%d%%), %.0f records/s\n", label, done, total, done*100/max(total, 1), rate)
	}
}

// Describe is one line per replayed record: where it was, its label and group, and what the filter did.
func Describe(rec *Record, r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d label=%d", rec.Line, rec.Label)
	if rec.Kind != "" {
		fmt.Fprintf(&b, " kind=%s", rec.Kind)
	}
	switch {
	case r.Err != "":
		fmt.Fprintf(&b, " ERROR %s", r.Err)
	case r.Flagged:
		b.WriteString(" flagged")
	default:
		b.WriteString(" passed")
	}
	if r.Blocked {
		fmt.Fprintf(&b, " blocked=%d", r.Status)
	}
	for _, d := range r.Decisions {
		fmt.Fprintf(&b, " [%s", d.Action)
		if d.Reason != "" {
			fmt.Fprintf(&b, " %s", d.Reason)
		}
		if d.Mode != "" {
			fmt.Fprintf(&b, " mode=%s", d.Mode)
		}
		if d.Score != 0 {
			fmt.Fprintf(&b, " score=%.3f", d.Score)
		}
		if len(d.Findings) > 0 {
			fmt.Fprintf(&b, " findings=%d", len(d.Findings))
		}
		b.WriteString("]")
	}
	for _, sp := range r.Spans {
		fmt.Fprintf(&b, " %s@%d-%d", sp.Type, sp.Start, sp.End)
	}
	return b.String()
}
