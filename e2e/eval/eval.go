package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wasmguard/wasmguard/hostsim"
	"github.com/wasmguard/wasmguard/hostsim/replay"
	"github.com/wasmguard/wasmguard/sdk/pii"
)

// Job is one filter evaluated on one dataset, written to Out (dist/eval/<name>.json and .svg).
type Job struct {
	Filter  string
	Dataset string // path of the JSONL file
	Name    string // output name without extension: "<filter>" for the primary file, "<filter>.<stem>" otherwise
}

// Filters are the filters with a detection to evaluate (tokenbudget has none).
var Filters = []string{"promptguard", "piimask", "outputguard"}

// defaultFiles are each filter's files in shared/datasets, the primary one first.
var defaultFiles = map[string][]string{
	// promptguard: the dev and train files through the shipped .wasm (the train records include the ones the
	// shipped model was fitted on: the held-out figures are cmd/train's report, which make eval writes beside).
	"promptguard": {"injection.dev.jsonl", "harmful.dev.jsonl", "injection.train.jsonl", "harmful.train.jsonl"},
	// piimask's rules were written looking at the dev files only: the train files are its out-of-fold figures
	"piimask": {"pii.dev.jsonl", "secrets.dev.jsonl", "pii_values.dev.jsonl",
		"pii.train.jsonl", "secrets.train.jsonl", "pii_values.train.jsonl"},
	"outputguard": {"output.dev.jsonl"},
}

// DefaultJobs is `make eval` without arguments: every filter on its dev files under dir.
func DefaultJobs(dir string) []Job {
	var jobs []Job
	for _, f := range Filters {
		for i, file := range defaultFiles[f] {
			name := f
			if i > 0 {
				name = f + "." + strings.TrimSuffix(strings.TrimSuffix(file, ".jsonl"), ".dev")
			}
			if _, err := os.Stat(filepath.Join(dir, file)); err != nil && strings.HasSuffix(file, ".train.jsonl") {
				continue // optional
			}
			jobs = append(jobs, Job{Filter: f, Dataset: filepath.Join(dir, file), Name: name})
		}
	}
	return jobs
}

// SupportedGroups names the groups a filter claims to detect, for the report's overall_supported figures:
// piimask's built-in entity types (the PII files also label names, addresses and dates, which no pattern
// scanner finds). Nil for the other filters.
func SupportedGroups(filter string) []string {
	if filter != "piimask" {
		return nil
	}
	var out []string
	for _, t := range pii.AllTypes() {
		if !t.IsSecret() {
			out = append(out, t.String())
		}
	}
	return out
}

// FilterConfig is the configuration a filter is evaluated with: its defaults in monitor mode, so every record
// is forwarded and only the decision log tells what the filter would have done.
func FilterConfig(filter string) []byte { return []byte(`{"mode":"monitor"}`) }

// Options control a run.
type Options struct {
	Dist     string          // where <filter>.wasm is
	Out      string          // where reports and charts go (dist/eval)
	Progress io.Writer       // progress and tables (nil: silent)
	Profile  hostsim.Profile // host profile (default: Envoy, the strictest)
}

// Run evaluates one job: it loads the filter, replays the dataset, writes <Out>/<Name>.json and .svg, and
// returns the report.
func Run(job Job, o Options) (*replay.Report, error) {
	recs, err := replay.ReadFile(job.Dataset)
	if err != nil {
		return nil, err
	}
	schema := replay.DetectSchema(job.Dataset, recs)
	wasm, err := os.ReadFile(filepath.Join(o.Dist, job.Filter+".wasm"))
	if err != nil {
		return nil, fmt.Errorf("eval %s: %w (run make build)", job.Filter, err)
	}
	if o.Profile == "" {
		o.Profile = hostsim.ProfileEnvoy
	}
	r, err := replay.NewRunner(job.Filter, wasm, FilterConfig(job.Filter), o.Profile)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var prog replay.Progress
	if o.Progress != nil {
		prog = replay.TextProgress(o.Progress, job.Filter+" on "+filepath.Base(job.Dataset))
	}
	results := r.RunAll(schema, recs, prog)
	rep := replay.NewReportSupported(job.Filter, filepath.Base(job.Dataset), schema, recs, replay.Outcomes(results), SupportedGroups(job.Filter))
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(o.Out, job.Name+".json"))
	if err != nil {
		return nil, err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, job.Name+".svg"), Chart(rep), 0o644); err != nil {
		return nil, err
	}
	if o.Progress != nil {
		rep.WriteTable(o.Progress)
	}
	if schema == replay.SchemaSecrets || schema == replay.SchemaPII {
		bySource := BySource(schema, recs, replay.Outcomes(results))
		f, err := os.Create(filepath.Join(o.Out, job.Name+".by_source.json"))
		if err != nil {
			return nil, err
		}
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(bySource)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			WriteBySource(o.Progress, bySource)
		}
	}
	return rep, nil
}

// SourceStats are the overall figures of the records of one source repository.
type SourceStats struct {
	Source string       `json:"source"`
	Stats  replay.Stats `json:"stats"`
	// Types are the figures of every labelled entity type (PII files): the learned types (PERSON, ADDRESS,
	// LOCATION, ORGANIZATION) are in sample here, the shipped model trained on these records; their out-of-fold
	// figures are sdk/pii's TestQualityPIIBySource (make eval writes dist/eval/piimask.by_type.md).
	Types map[string]replay.Stats `json:"types,omitempty"`
}

// BySource scores the records of each source repository (the part of Record.Source before ':') separately:
// secrets are reported per scanner whose test vectors they are (CredSweeper, gitleaks, noseyparker,
// detect-secrets, ...); PII spans over the entity types piimask detects.
func BySource(s replay.Schema, recs []replay.Record, outs []replay.Outcome) []SourceStats {
	idx := map[string][]int{}
	var names []string
	for i := range recs {
		src, file, _ := strings.Cut(recs[i].Source, ":")
		if s == replay.SchemaPII && src == "microsoft/presidio-research" {
			src += ":" + path.Base(file) // its generated files differ in what they label (and how)
		}
		if _, ok := idx[src]; !ok {
			names = append(names, src)
		}
		idx[src] = append(idx[src], i)
	}
	sort.Strings(names)
	supported := map[string]bool{}
	for _, g := range SupportedGroups("piimask") {
		supported[g] = true
	}
	var out []SourceStats
	for _, name := range names {
		rs := make([]replay.Record, 0, len(idx[name]))
		ros := make([]replay.Outcome, 0, len(idx[name]))
		for _, i := range idx[name] {
			rs, ros = append(rs, recs[i]), append(ros, outs[i])
		}
		groups, overall := replay.Score(s, rs, ros)
		st := overall.Stats()
		if s == replay.SchemaPII {
			// span figures over the entity types piimask has a detector for
			st = replay.Stats{}
			for g, c := range groups {
				if supported[g] {
					gs := c.Stats()
					st.N += gs.N
					st.TP += gs.TP
					st.FP += gs.FP
					st.FN += gs.FN
				}
			}
			if st.TP+st.FP > 0 {
				p := float64(st.TP) / float64(st.TP+st.FP)
				st.Precision = &p
			}
			if st.TP+st.FN > 0 {
				r := float64(st.TP) / float64(st.TP+st.FN)
				st.Recall = &r
			}
		}
		ss := SourceStats{Source: name, Stats: st}
		if s == replay.SchemaPII {
			ss.Types = map[string]replay.Stats{}
			for g, c := range groups {
				if gs := c.Stats(); gs.TP+gs.FN+gs.FP > 0 {
					ss.Types[g] = gs
				}
			}
		}
		out = append(out, ss)
	}
	return out
}

// WriteBySource prints one line per source.
func WriteBySource(w io.Writer, ss []SourceStats) {
	f := func(p *float64) string {
		if p == nil {
			return "    –"
		}
		return fmt.Sprintf("%5.1f%%", *p*100)
	}
	fmt.Fprintln(w, "  by source                          n   precision  recall   FPR")
	for _, s := range ss {
		if len(s.Types) > 0 {
			fmt.Fprintln(w, "  (per type: this configuration, the shipped tagger, in sample for PERSON/ADDRESS/LOCATION/ORGANIZATION;")
			fmt.Fprintln(w, "   every type on and the tagger out of fold: dist/eval/piimask.by_type.md, sdk/pii TestQualityPIIBySource)")
			break
		}
	}
	for _, s := range ss {
		fmt.Fprintf(w, "  %-30s %5d   %s   %s   %s\n", s.Source, s.Stats.N, f(s.Stats.Precision), f(s.Stats.Recall), f(s.Stats.FPR))
		types := make([]string, 0, len(s.Types))
		for t := range s.Types {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			st := s.Types[t]
			fmt.Fprintf(w, "    %-28s %5d   %s   %s   (labelled %d, tp %d, fp %d, fn %d)\n", t, st.N, f(st.Precision), f(st.Recall), st.TP+st.FN, st.TP, st.FP, st.FN)
		}
	}
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// Chart draws a report: precision, recall and false-positive rate per group, then overall. When the report
// names the groups the filter supports (piimask's entity types), only those with labelled spans are drawn, with
// the overall figures over them and over every type.
func Chart(rep *replay.Report) []byte {
	names := rep.GroupNames()
	if len(rep.SupportedGroups) > 0 && len(rep.SupportedGroups) < len(rep.Groups) {
		names = names[:0]
		for _, g := range rep.SupportedGroups {
			if s := rep.Groups[g]; s.TP+s.FN > 0 {
				names = append(names, g)
			}
		}
		sort.Strings(names)
	}
	if len(names) > 30 {
		sort.SliceStable(names, func(i, j int) bool { return rep.Groups[names[i]].N > rep.Groups[names[j]].N })
		names = names[:30]
		sort.Strings(names)
	}
	cats := append([]string{}, names...)
	stats := []replay.Stats{}
	for _, g := range names {
		stats = append(stats, rep.Groups[g])
	}
	if rep.OverallSupported != nil && len(rep.SupportedGroups) < len(rep.Groups) {
		cats = append(cats, "overall (supported types)")
		stats = append(stats, *rep.OverallSupported)
	}
	cats = append(cats, "overall")
	stats = append(stats, rep.Overall)
	var p, r, f []float64
	for _, s := range stats {
		p, r, f = append(p, val(s.Precision)), append(r, val(s.Recall)), append(f, val(s.FPR))
	}
	title := fmt.Sprintf("%s on %s (%d records)", rep.Filter, rep.Dataset, rep.Records)
	return BarChart(title, cats, []Series{
		{Name: "precision", Color: "#4c78a8", Values: p},
		{Name: "recall", Color: "#59a14f", Values: r},
		{Name: "false-positive rate", Color: "#e15759", Values: f},
	}, 1, true, "")
}

// Summary writes a Markdown table of reports (one row per report, overall figures) for the README.
func Summary(w io.Writer, reps []*replay.Report) {
	fmt.Fprintln(w, "| filter | dataset | records | precision | recall | FPR |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	defer fmt.Fprintln(w, "\n(*) only the entity types the filter has a detector for; the PII files also label names, addresses, dates.")
	f := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", *p*100)
	}
	for _, r := range reps {
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s |\n", r.Filter, r.Dataset, r.Records, f(r.Overall.Precision), f(r.Overall.Recall), f(r.Overall.FPR))
		if s := r.OverallSupported; s != nil && len(r.SupportedGroups) < len(r.Groups) {
			fmt.Fprintf(w, "| %s | %s (*) | %d | %s | %s | %s |\n", r.Filter, r.Dataset, r.Records, f(s.Precision), f(s.Recall), f(s.FPR))
		}
	}
}
