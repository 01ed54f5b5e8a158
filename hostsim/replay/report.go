package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// Report is the JSON written by `make eval` to dist/eval/<filter>.json (issue 7):
// {"filter", "dataset", "records", "groups": {"<group>": {"n","tp","fp","fn","tn","precision","recall","fpr"}}}.
// Groups are the dataset's own names (kind, entity type, or secret/negative). Overall sums every group (micro
// average) and is kept apart so that groups hold only the dataset's names.
type Report struct {
	Filter  string           `json:"filter"`
	Dataset string           `json:"dataset"`
	Schema  Schema           `json:"schema"`
	Records int              `json:"records"`
	Errors  int              `json:"errors"` // exchanges that failed (counted as not flagged)
	Groups  map[string]Stats `json:"groups"`
	Overall Stats            `json:"overall"`
	// OverallSupported sums only the groups the filter claims to detect (entity types it has a detector for),
	// when the caller names them: the PII files label many types (names, addresses) no pattern scanner covers.
	OverallSupported *Stats   `json:"overall_supported,omitempty"`
	SupportedGroups  []string `json:"supported_groups,omitempty"`
	// Placement says how records were wrapped, so the figures can be reproduced.
	Placement string `json:"wrapping"`
}

// NewReport scores outcomes into a report.
func NewReport(filter, dataset string, s Schema, recs []Record, outs []Outcome) *Report {
	return NewReportSupported(filter, dataset, s, recs, outs, nil)
}

// NewReportSupported is NewReport plus OverallSupported over the groups in supported (none: left out).
func NewReportSupported(filter, dataset string, s Schema, recs []Record, outs []Outcome, supported []string) *Report {
	groups, overall := Score(s, recs, outs)
	r := &Report{Filter: filter, Dataset: dataset, Schema: s, Records: len(recs), Groups: map[string]Stats{},
		Overall: overall.Stats(), Placement: wrappingDoc(s)}
	for g, c := range groups {
		r.Groups[g] = c.Stats()
	}
	if len(supported) > 0 {
		var sum Counts
		for _, g := range supported {
			if c, ok := groups[g]; ok {
				sum.add(c)
				r.SupportedGroups = append(r.SupportedGroups, g)
			}
		}
		if len(r.SupportedGroups) > 0 {
			st := sum.Stats()
			r.OverallSupported = &st
		}
	}
	for i := range outs {
		if outs[i].Err != "" {
			r.Errors++
		}
	}
	return r
}

func wrappingDoc(s Schema) string {
	switch s {
	case SchemaOutput:
		return "assistant message of an OpenAI chat.completion response (prompt-leak secrets appended to the system prompt)"
	case SchemaInjection:
		return "user message of an OpenAI chat request; kind=indirect and tag=document as the tool result of a fetch_document call"
	}
	return "user message of an OpenAI chat request"
}

// GroupNames returns the report's groups, sorted.
func (r *Report) GroupNames() []string {
	names := make([]string, 0, len(r.Groups))
	for g := range r.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return names
}

// WriteJSON writes the report, indented.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func pct(p *float64) string {
	if p == nil {
		return "    -"
	}
	return fmt.Sprintf("%5.1f", *p*100)
}

// WriteTable prints the per-group table (precision, recall, FPR in percent; "-" when undefined).
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%s on %s (%d records, %d errors)\n", r.Filter, r.Dataset, r.Records, r.Errors)
	fmt.Fprintf(w, "  %-28s %6s %6s %6s %6s %6s %6s %6s %6s\n", "group", "n", "tp", "fp", "fn", "tn", "prec%", "rec%", "fpr%")
	row := func(name string, s Stats) {
		fmt.Fprintf(w, "  %-28s %6d %6d %6d %6d %6d %6s %6s %6s\n", name, s.N, s.TP, s.FP, s.FN, s.TN,
			pct(s.Precision), pct(s.Recall), pct(s.FPR))
	}
	for _, g := range r.GroupNames() {
		row(g, r.Groups[g])
	}
	row("(overall)", r.Overall)
	if r.OverallSupported != nil {
		row("(overall, supported types)", *r.OverallSupported)
	}
}
