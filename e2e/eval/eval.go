package eval

import (
	"fmt"
	"io"
	"math"
	"os"
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
	"piimask":     {"pii.dev.jsonl", "secrets.dev.jsonl", "pii_values.dev.jsonl"},
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
	return rep, nil
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
