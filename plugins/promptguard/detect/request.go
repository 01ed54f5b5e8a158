package detect

import (
	"regexp"
	"unicode/utf8"

	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Policy says which segments of a request are inspected and how strictly.
type Policy struct {
	// Scan lists the provenances inspected (e.g. user, tool_result, document).
	Scan []llm.Provenance
	// Threshold applies to trusted roles (user, system, assistant, tool_call); DataThreshold to untrusted data
	// (tool_result, document), which is usually stricter (lower).
	Threshold, DataThreshold float64
	// DenyPatterns and AllowPatterns are user-supplied regular expressions, run on the raw text of every
	// inspected segment (configure-time compiled; each costs about 1 MB/s inside wasm).
	DenyPatterns, AllowPatterns []*regexp.Regexp
	// MaxScanBytes bounds the text inspected per request; segments are inspected newest first, and the rest is
	// skipped (Verdict.Truncated). 0 means no bound.
	MaxScanBytes int
	// MaxSegments bounds the number of segments inspected per request (newest first; Verdict.Truncated).
	// 0 means no bound.
	MaxSegments int
	// PayloadSplit also scores the concatenation of the inspected user segments (an attack split across
	// messages).
	PayloadSplit bool
}

// IsData reports whether p is untrusted third-party content.
func IsData(p llm.Provenance) bool { return p == llm.ProvToolResult || p == llm.ProvDocument }

// Verdict is the outcome of scanning a request.
type Verdict struct {
	Flagged    bool
	Score      float64 // highest score over the inspected segments
	Threshold  float64 // threshold of the segment that scored highest
	Segment    int     // llm.Segment.Index of that segment (-1 when nothing was inspected)
	Provenance llm.Provenance
	Signals    []string // top signals of that segment (plus "payload_split", "deny_pattern", ...)
	Findings   []SegmentFinding
	Inspected  int  // segments inspected
	Truncated  bool // MaxScanBytes stopped the scan early
}

// SegmentFinding is one flagged segment: its index, its length in code points and its score.
type SegmentFinding struct {
	Segment    int
	Provenance llm.Provenance
	Runes      int
	Score      float64
}

// maxSplitParts and maxSplitBytes bound the payload-split check.
const (
	maxSplitParts = 8
	maxSplitBytes = 16 << 10
)

// ScanRequest inspects the segments of req selected by pol and returns the verdict.
func (d *Detector) ScanRequest(req *llm.Request, pol *Policy) Verdict {
	v := Verdict{Segment: -1}
	budget := pol.MaxScanBytes
	var userParts []int
	var single [NumSignals]uint16 // signal counts summed over userParts (for the payload-split check)
	for i := len(req.Segments) - 1; i >= 0; i-- {
		s := &req.Segments[i]
		if !scans(pol.Scan, s.Provenance) || len(s.Text) == 0 {
			continue
		}
		if pol.MaxSegments > 0 && v.Inspected >= pol.MaxSegments {
			v.Truncated = true
			break
		}
		if pol.MaxScanBytes > 0 {
			if budget <= 0 {
				v.Truncated = true
				break
			}
			budget -= len(s.Text)
		}
		th := pol.Threshold
		if IsData(s.Provenance) {
			th = pol.DataThreshold
		}
		a := d.analyze(s.Text, IsData(s.Provenance))
		score := a.Score
		var extra []string
		if !a.Denied && !a.Allowed {
			switch {
			case matchAny(pol.DenyPatterns, s.Text):
				score = 1
				extra = append(extra, "deny_pattern")
			case matchAny(pol.AllowPatterns, s.Text):
				score = 0
				extra = append(extra, "allow_pattern")
			}
		}
		if a.Allowed {
			extra = append(extra, "allow_phrase")
		}
		v.Inspected++
		if s.Provenance == llm.ProvUser && len(userParts) < maxSplitParts {
			userParts = append(userParts, i)
			for k, c := range a.Counts {
				single[k] += c
			}
		}
		if score >= th {
			v.Findings = append(v.Findings, SegmentFinding{Segment: s.Index, Provenance: s.Provenance,
				Runes: utf8.RuneCountInString(s.Text), Score: score})
		}
		if v.Segment < 0 || score-th > v.Score-v.Threshold {
			v.Score, v.Threshold, v.Segment, v.Provenance = score, th, s.Index, s.Provenance
			v.Signals = append(extra, a.TopSignals(5)...)
		}
	}
	if pol.PayloadSplit && len(userParts) > 1 && !(v.Segment >= 0 && v.Score >= v.Threshold) {
		d.payloadSplit(req, userParts, &single, pol, &v)
	}
	v.Flagged = v.Segment >= 0 && v.Score >= v.Threshold
	// Findings are reported in segment order.
	for i, j := 0, len(v.Findings)-1; i < j; i, j = i+1, j-1 {
		v.Findings[i], v.Findings[j] = v.Findings[j], v.Findings[i]
	}
	return v
}

// payloadSplit scores the inspected user segments joined in conversation order: an instruction split across
// messages ("ignore all" … "previous instructions") only shows up there. It only raises the verdict when the
// joined text carries an override or extraction phrase that no single part carried.
func (d *Detector) payloadSplit(req *llm.Request, parts []int, single *[NumSignals]uint16, pol *Policy, v *Verdict) {
	buf := make([]byte, 0, 1024)
	for k := len(parts) - 1; k >= 0; k-- {
		s := &req.Segments[parts[k]]
		if len(buf)+len(s.Text) > maxSplitBytes {
			break
		}
		buf = append(buf, s.Text...)
		buf = append(buf, ' ')
	}
	a := d.Analyze(string(buf))
	if a.Counts[SigInstructionOverride] <= single[SigInstructionOverride] &&
		a.Counts[SigPromptExtraction] <= single[SigPromptExtraction] {
		return
	}
	last := &req.Segments[parts[0]]
	if a.Score > v.Score || v.Segment < 0 {
		v.Score, v.Threshold, v.Segment, v.Provenance = a.Score, pol.Threshold, last.Index, last.Provenance
		v.Signals = append([]string{"payload_split"}, a.TopSignals(4)...)
		if a.Score >= pol.Threshold {
			v.Findings = append(v.Findings, SegmentFinding{Segment: last.Index, Provenance: last.Provenance,
				Runes: utf8.RuneCountInString(last.Text), Score: a.Score})
		}
	}
}

func scans(list []llm.Provenance, p llm.Provenance) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
