// Command train trains promptguard's embedded logistic-regression model and writes
// plugins/promptguard/detect/weights.go. It is deterministic: the same datasets give a byte-identical file.
//
//	go run ./plugins/promptguard/cmd/train            # cross-validate, report, train on everything, write weights
//	go run ./plugins/promptguard/cmd/train -write=false # report only
//
// Only records whose "trainable" is true are used for training and threshold selection (injection.dev.jsonl,
// plus the plain harmful requests of harmful.dev.jsonl as negatives: they are not injections). Figures are
// reported on records the scored model never saw: 5-fold cross-validation (folds by sha256 of the text) for the
// trainable records, and the final model on every non-trainable record.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/wasmguard/wasmguard/plugins/promptguard/detect"
)

type record struct {
	Text      string   `json:"text"`
	Label     int      `json:"label"`
	Source    string   `json:"source"`
	Kind      string   `json:"kind"`
	Tags      []string `json:"tags"`
	Lang      string   `json:"lang"`
	Trainable bool     `json:"trainable"`

	fold   int
	data   bool // inspected as untrusted data (tool result / document)
	weight float64
	hashed []uint32 // bucket occurrences as detect.Extract returned them
	idx    []uint32
	val    []float32
	dense  [detect.NumDense]float32
}

const folds = 5

// params are the training settings (flags); they are part of the training-input hash.
type params struct {
	iters, window, minFeat, short int
	l2, l2d                       float64
}

func defaultParams() params {
	return params{iters: 400, window: 128, minFeat: 20, short: 20, l2: 3e-5, l2d: 1e-4}
}

func main() {
	root := repoRoot()
	dp := defaultParams()
	dsDir := flag.String("datasets", filepath.Join(root, "..", "shared", "datasets"), "directory of the *.dev.jsonl and *.train.jsonl files")
	out := flag.String("out", filepath.Join(root, "plugins", "promptguard", "detect", "weights.go"), "generated weights file")
	write := flag.Bool("write", true, "write the weights file")
	iters := flag.Int("iters", dp.iters, "full-batch Adam iterations")
	l2 := flag.Float64("l2", dp.l2, "L2 penalty of the hashed weights (per unit of total sample weight)")
	l2d := flag.Float64("l2dense", dp.l2d, "L2 penalty of the dense (signal) weights")
	scoresOut := flag.String("scores", "", "write every record's held-out score (out-of-fold or final model) as JSONL to this file")
	window := flag.Int("window", dp.window, "n-gram window for max-pooled scoring of long texts (0: whole text only)")
	minFeat := flag.Int("minfeatures", dp.minFeat, "records with fewer hashed n-gram occurrences are not fitted")
	short := flag.Int("short", dp.short, "texts with fewer hashed n-gram occurrences are scored by the signals-only model (0: never)")
	ftOn := flag.Bool("ft", false, "experiment: compare a fastText-style model with the logistic one (no output written)")
	var fp ftParams
	flag.IntVar(&fp.bits, "ftbits", 16, "ft: log2 embedding buckets")
	flag.IntVar(&fp.dim, "ftdim", 16, "ft: embedding dimension")
	flag.IntVar(&fp.hidden, "fthidden", 32, "ft: hidden units")
	flag.IntVar(&fp.epochs, "ftepochs", 10, "ft: epochs")
	flag.Float64Var(&fp.lr, "ftlr", 0.05, "ft: initial learning rate")
	flag.Float64Var(&fp.l2, "ftl2", 1e-6, "ft: L2")
	flag.Uint64Var(&fp.seed, "ftseed", 1, "ft: seed")
	reportOut := flag.String("report", "", "write the held-out report (every record scored by a model that never saw it) as Markdown to this file")
	flag.Parse()
	pr := params{iters: *iters, window: *window, minFeat: *minFeat, short: *short, l2: *l2, l2d: *l2d}

	ds := prepare(*dsDir, pr)
	all, train, fitSet := ds.all, ds.train, ds.fitSet
	fmt.Printf("records: %d injection, %d harmful; trainable %d, fitted %d\n", ds.nInj, ds.nHarm, len(train), len(fitSet))

	// Cross-validation: out-of-fold scores for every trainable record.
	oof := map[*record]float64{}
	for k := 0; k < folds; k++ {
		var tr []*record
		for _, r := range fitSet {
			if r.fold != k {
				tr = append(tr, r)
			}
		}
		qm := fitModel(tr, pr, pr.iters)
		for _, r := range train {
			if r.fold == k {
				oof[r] = qm.Prob(&detect.Features{Hashed: r.hashed, Dense: r.dense})
			}
		}
	}
	thUser, thData := chooseThresholds(train, oof)
	fmt.Printf("thresholds (chosen on out-of-fold scores of trainable records): user %.3f, data %.3f\n", thUser, thData)
	report("5-fold cross-validation, trainable records (out-of-fold scores)", train, oof, thUser, thData)
	dump(train, oof, 0.6)
	curve(train, oof)

	final := fit(fitSet, pr.iters, pr.l2, pr.l2d)
	applyPriors(final, fitSet)
	q := final.quantize()
	q.Window = pr.window
	shortModel(q, fitSet, pr, pr.iters)
	held := map[*record]float64{}
	var heldRecs []*record
	for _, r := range all {
		if !r.Trainable {
			held[r] = q.Prob(&detect.Features{Hashed: expand(r), Dense: r.dense})
			heldRecs = append(heldRecs, r)
		}
	}
	report("final model, non-trainable records (never trained on)", heldRecs, held, thUser, thData)
	if *ftOn {
		lrs := map[*record]float64{}
		for r, p := range oof {
			lrs[r] = p
		}
		for r, p := range held {
			lrs[r] = p
		}
		ftExperiment(ds, fp, lrs)
		return
	}
	if *scoresOut != "" {
		writeScores(*scoresOut, all, oof, held)
	}
	if *reportOut != "" {
		scores := map[*record]float64{}
		for r, p := range oof {
			scores[r] = p
		}
		for r, p := range held {
			scores[r] = p
		}
		var b strings.Builder
		heldoutReport(&b, all, scores, thUser, thData)
		if err := os.MkdirAll(filepath.Dir(*reportOut), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "train: report:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(*reportOut, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "train: report:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", *reportOut)
	}

	// Agreement of the quantised model with the float model.
	// (whole-text scoring: the float model has no windows and no short-text model).
	var maxDiff float64
	whole := *q
	whole.Window, whole.MinHashed = 0, 0
	for _, r := range train {
		diff := math.Abs(final.prob(r) - whole.Prob(&detect.Features{Hashed: expand(r), Dense: r.dense}))
		maxDiff = math.Max(maxDiff, diff)
	}
	fmt.Printf("max |p_float - p_int8| on trainable records: %.4f\n", maxDiff)
	fmt.Println("signal weights (support = fitted records with the signal; < 5 means a hand-set prior):")
	for i := 0; i < detect.NumDense; i++ {
		n := 0
		for _, r := range fitSet {
			if r.dense[i] > 0 {
				n++
			}
		}
		fmt.Printf("  %-22s %+.3f  support %d\n", detect.Signal(i).String(), final.dense[i], n)
	}
	if *write {
		src, err := format.Source(render(q, thUser, thData, inputHash(ds, pr), codeHash(ds, pr)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "train: format weights:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(*out, src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "train: write weights:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", *out)
	}
}

// dataset is the prepared training data.
type dataset struct {
	all, train, fitSet []*record
	nInj, nHarm        int
}

// prepare loads injection and harmful records from the dev and train files of dir, extracts their features
// and selects the trainable records and the fitted ones.
func prepare(dir string, pr params) *dataset {
	inj := append(load(filepath.Join(dir, "injection.dev.jsonl")), load(filepath.Join(dir, "injection.train.jsonl"))...)
	harm := append(load(filepath.Join(dir, "harmful.dev.jsonl")), load(filepath.Join(dir, "harmful.train.jsonl"))...)
	for _, r := range harm {
		r.Label = 0 // plain harmful requests are not injections
	}
	ds := &dataset{all: append(append([]*record{}, inj...), harm...), nInj: len(inj), nHarm: len(harm)}
	d := detect.New(detect.Options{Model: &detect.Model{}})
	for _, r := range ds.all {
		sum := sha256.Sum256([]byte(r.Text))
		r.fold = int(sum[0]) % folds
		r.data = r.Kind == "indirect" || hasTag(r.Tags, "document")
		f := d.Extract(r.Text, r.data)
		r.hashed = append([]uint32(nil), f.Hashed...)
		r.idx, r.val = sparse(f.Hashed)
		r.dense = f.Dense
	}
	// Records that yield (almost) no n-gram features, i.e. texts in non-Latin scripts, would only teach the
	// intercept that "a text with no features is an injection" (most of them are machine-translated attacks):
	// they are scored and reported, but not fitted.
	for _, r := range ds.all {
		if r.Trainable {
			ds.train = append(ds.train, r)
			if len(r.hashed) >= pr.minFeat {
				ds.fitSet = append(ds.fitSet, r)
			}
		}
	}
	setWeights(ds.fitSet)
	return ds
}

// inputHash is the sha256 of everything training reads: the parameters and, for every trainable record in
// order, its label, fold, data flag, weight and features. With codeHash it lets a cheap test check that the
// committed weights are what training would write now (training is deterministic).
func inputHash(ds *dataset, pr params) string {
	h := sha256.New()
	fmt.Fprintf(h, "%+v|%d|%v|%v|%v\n", pr, folds, priors, fixed, floors)
	var b [4]byte
	for _, r := range ds.train {
		fmt.Fprintf(h, "%d %d %v %.9g %d|", r.Label, r.fold, r.data, r.weight, len(r.hashed))
		for _, x := range r.hashed {
			binary.LittleEndian.PutUint32(b[:], x)
			h.Write(b[:])
		}
		for _, v := range r.dense {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// codeHash is the sha256 of the quantised model that the training code fits on a fixed subset of the data
// (every 16th fitted record, 40 iterations): it changes when the fitting, prior or quantisation code does.
func codeHash(ds *dataset, pr params) string {
	var sub []*record
	for i := 0; i < len(ds.fitSet); i += 16 {
		sub = append(sub, ds.fitSet[i])
	}
	q := fitModel(sub, pr, 40)
	h := sha256.New()
	fmt.Fprintf(h, "%v %v %v %d %v %v|", q.HashScale, q.Bias, q.Dense, q.MinHashed, q.Short.Bias, q.Short.Dense)
	h.Write([]byte(q.Hashed))
	return hex.EncodeToString(h.Sum(nil))
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func load(path string) []*record {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train: open dataset:", err)
		os.Exit(1)
	}
	defer f.Close()
	var out []*record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			fmt.Fprintf(os.Stderr, "train: %s: %v\n", path, err)
			os.Exit(1)
		}
		out = append(out, &r)
	}
	return out
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// sparse turns bucket occurrences into sorted (bucket, count/sqrt(n)) pairs.
func sparse(h []uint32) ([]uint32, []float32) {
	if len(h) == 0 {
		return nil, nil
	}
	s := append([]uint32(nil), h...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	norm := float32(1 / math.Sqrt(float64(len(h)+detect.NormPad)))
	var idx []uint32
	var val []float32
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		idx = append(idx, s[i])
		val = append(val, float32(j-i)*norm)
		i = j
	}
	return idx, val
}

// expand returns the occurrence list of a record (for scoring with detect.Model).
func expand(r *record) []uint32 { return r.hashed }

// setWeights balances the classes and damps templated families: each record weighs 1/sqrt(size of its
// source family), then each class is scaled to half of the total weight.
func setWeights(rs []*record) {
	fam := map[string]int{}
	for _, r := range rs {
		fam[family(r)]++
	}
	var pos, neg float64
	for _, r := range rs {
		r.weight = 1 / math.Sqrt(float64(fam[family(r)]))
		if r.Label == 1 {
			pos += r.weight
		} else {
			neg += r.weight
		}
	}
	for _, r := range rs {
		if r.Label == 1 {
			r.weight *= float64(len(rs)) / 2 / pos
		} else {
			r.weight *= float64(len(rs)) / 2 / neg
		}
	}
}

func family(r *record) string {
	f := r.Source + "|" + r.Kind
	if len(r.Tags) > 0 {
		f += "|" + r.Tags[0]
	}
	return f
}

type lr struct {
	hashed []float64
	dense  [detect.NumDense]float64
	bias   float64
}

func (m *lr) logit(r *record) float64 {
	z := m.bias
	for i, v := range r.dense {
		z += m.dense[i] * float64(v)
	}
	for i, ix := range r.idx {
		z += m.hashed[ix] * float64(r.val[i])
	}
	return z
}

func (m *lr) prob(r *record) float64 { return 1 / (1 + math.Exp(-m.logit(r))) }

// fit trains by full-batch Adam (deterministic: no sampling).
func fit(rs []*record, iters int, l2, l2d float64) *lr {
	const nh = 1 << detect.HashBits
	m := &lr{hashed: make([]float64, nh)}
	for sig, w := range fixed {
		m.dense[sig] = w
	}
	gh := make([]float64, nh)
	mh, vh := make([]float64, nh), make([]float64, nh)
	var md, vd [detect.NumDense + 1]float64
	var W float64
	for _, r := range rs {
		W += r.weight
	}
	const lr0, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
	for it := 1; it <= iters; it++ {
		for i := range gh {
			gh[i] = 0
		}
		var gd [detect.NumDense + 1]float64
		for _, r := range rs {
			g := (m.prob(r) - float64(r.Label)) * r.weight / W
			for i, v := range r.dense {
				gd[i] += g * float64(v)
			}
			gd[detect.NumDense] += g
			for i, ix := range r.idx {
				gh[ix] += g * float64(r.val[i])
			}
		}
		for i := range gh {
			gh[i] += 2 * l2 * m.hashed[i]
		}
		for i := 0; i < detect.NumDense; i++ {
			gd[i] += 2 * l2d * m.dense[i]
		}
		c1 := 1 - math.Pow(b1, float64(it))
		c2 := 1 - math.Pow(b2, float64(it))
		for i := range gh {
			mh[i] = b1*mh[i] + (1-b1)*gh[i]
			vh[i] = b2*vh[i] + (1-b2)*gh[i]*gh[i]
			m.hashed[i] -= lr0 * (mh[i] / c1) / (math.Sqrt(vh[i]/c2) + eps)
		}
		for i := 0; i <= detect.NumDense; i++ {
			md[i] = b1*md[i] + (1-b1)*gd[i]
			vd[i] = b2*vd[i] + (1-b2)*gd[i]*gd[i]
			step := lr0 * (md[i] / c1) / (math.Sqrt(vd[i]/c2) + eps)
			switch _, isFixed := fixed[detect.Signal(i)]; {
			case i == detect.NumDense:
				m.bias -= step
			case !isFixed:
				m.dense[i] -= step
			}
		}
	}
	return m
}

// fitModel fits the logistic model on rs (iters full-batch Adam iterations), applies the priors, quantises
// it and adds the signals-only model for short texts.
func fitModel(rs []*record, pr params, iters int) *detect.Model {
	m := fit(rs, iters, pr.l2, pr.l2d)
	applyPriors(m, rs)
	q := m.quantize()
	q.Window = pr.window
	shortModel(q, rs, pr, iters)
	return q
}

// shortModel fits q's signals-only model for short texts on rs with their n-grams hidden (the same records,
// weighted afresh; no text is fitted for having no n-grams, so "no features" is not learned as "injection").
func shortModel(q *detect.Model, rs []*record, pr params, iters int) {
	if pr.short <= 0 {
		return
	}
	so := make([]*record, len(rs))
	for i, r := range rs {
		so[i] = &record{Label: r.Label, Source: r.Source, Kind: r.Kind, Tags: r.Tags, dense: r.dense}
	}
	setWeights(so)
	m := fit(so, iters, 0, pr.l2d)
	applyPriors(m, so)
	q.MinHashed = pr.short
	q.Short.Bias = float32(m.bias)
	for i, w := range m.dense {
		q.Short.Dense[i] = float32(w)
	}
}

func (m *lr) quantize() *detect.Model {
	var maxAbs float64
	for _, w := range m.hashed {
		maxAbs = math.Max(maxAbs, math.Abs(w))
	}
	q := &detect.Model{Bias: float32(m.bias)}
	for i, w := range m.dense {
		q.Dense[i] = float32(w)
	}
	if maxAbs == 0 {
		return q
	}
	scale := maxAbs / 127
	b := make([]byte, len(m.hashed))
	for i, w := range m.hashed {
		b[i] = detect.HashedByte(int8(math.Round(w / scale)))
	}
	q.HashScale = float32(scale)
	q.Hashed = string(b)
	return q
}

// chooseThresholds picks, on a 0.01 grid, the user threshold as the lowest that keeps the out-of-fold FPR at
// most 1.5% on benign and 4% on benign-hard records (margins under the 2% / 5% targets: about 200 benign prompts
// are trainable, so one record moves the estimate by half a point), and the (stricter, lower) data threshold for tool results and
// documents as the lowest that keeps it at most 3% over all benign and benign-hard records together, as if each
// of them had arrived as a retrieved document: instructions inside data are suspicious in themselves, and the
// few trainable benign documents are too few to tune on.
func chooseThresholds(rs []*record, p map[*record]float64) (user, data float64) {
	fpr := func(th float64, keep func(*record) bool) float64 {
		var n, fp float64
		for _, r := range rs {
			if r.Label == 0 && keep(r) {
				n++
				if p[r] >= th {
					fp++
				}
			}
		}
		if n == 0 {
			return 0
		}
		return fp / n
	}
	// The user threshold is held to the FPR targets on the records it applies to (documents are judged by the
	// data threshold).
	benign := func(r *record) bool { return r.Kind == "benign" && !r.data }
	hard := func(r *record) bool { return r.Kind == "benign-hard" && !r.data }
	anyBenign := func(r *record) bool { return r.Kind == "benign" || r.Kind == "benign-hard" }
	user = 0.99
	for th := 0.99; th >= 0.05; th -= 0.01 {
		if fpr(th, benign) > 0.015 || fpr(th, hard) > 0.04 {
			break
		}
		user = th
	}
	data = user
	for th := user; th >= 0.05; th -= 0.01 {
		if fpr(th, anyBenign) > 0.03 {
			break
		}
		data = th
	}
	return round2(user), round2(data)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func report(title string, rs []*record, p map[*record]float64, thUser, thData float64) {
	type cell struct{ n, hit int }
	groups := map[string]*cell{}
	inc := func(g string, hit bool) {
		c := groups[g]
		if c == nil {
			c = &cell{}
			groups[g] = c
		}
		c.n++
		if hit {
			c.hit++
		}
	}
	for _, r := range rs {
		th := thUser
		if r.data {
			th = thData
		}
		hit := p[r] >= th
		lang := "en"
		if r.Lang != "" && r.Lang != "en" {
			lang = "non-en"
		}
		inc(r.Kind, hit)
		inc(r.Kind+" / "+lang, hit)
		src := r.Source
		if i := strings.IndexByte(src, ':'); i > 0 {
			src = src[:i]
		}
		inc(r.Kind+" / "+src, hit)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("\n## %s\n| group | n | flagged | rate |\n|---|---:|---:|---:|\n", title)
	for _, k := range keys {
		c := groups[k]
		fmt.Printf("| %s | %d | %d | %.1f%% |\n", k, c.n, c.hit, 100*float64(c.hit)/float64(c.n))
	}
}

// heldoutReport writes the Markdown report of every record of dev + train scored by a model that never saw it:
// trainable records by the model of the cross-validation fold that left them out, the others (licences that
// do not permit training) by the final model. Attack kinds are positives; benign, benign-hard and the plain
// harmful requests negatives. Documents (indirect records and benign ones tagged document) are judged with the
// data threshold, as the filter judges tool results and documents.
func heldoutReport(w io.Writer, rs []*record, p map[*record]float64, thUser, thData float64) {
	type cell struct{ n, hit int }
	positive := func(kind string) bool { return kind == "direct" || kind == "jailbreak" || kind == "indirect" }
	lang := func(r *record) string {
		if r.Lang == "" {
			return "en"
		}
		return r.Lang
	}
	src := func(r *record) string {
		if i := strings.IndexByte(r.Source, ':'); i > 0 {
			return r.Source[:i]
		}
		return r.Source
	}
	by := map[string]map[string]*cell{}
	add := func(table, key string, hit bool) {
		if by[table] == nil {
			by[table] = map[string]*cell{}
		}
		c := by[table][key]
		if c == nil {
			c = &cell{}
			by[table][key] = c
		}
		c.n++
		if hit {
			c.hit++
		}
	}
	var tp, fn, fp, tn int
	for _, r := range rs {
		th := thUser
		if r.data {
			th = thData
		}
		hit := p[r] >= th
		switch {
		case positive(r.Kind) && hit:
			tp++
		case positive(r.Kind):
			fn++
		case hit:
			fp++
		default:
			tn++
		}
		how := "cross-validated"
		if !r.Trainable {
			how = "never trained on"
		}
		en := "English"
		if lang(r) != "en" {
			en = "other languages"
		}
		add("kind", r.Kind, hit)
		add("kind-how", r.Kind+"|"+how, hit)
		add("kind-en", r.Kind+"|"+en, hit)
		if r.Kind == "benign" {
			where := "prompts"
			if r.data {
				where = "documents"
			}
			add("kind-where", r.Kind+"|"+where, hit)
		}
		add("source", r.Kind+"|"+src(r), hit)
		add("lang", r.Kind+"|"+lang(r), hit)
	}
	rate := func(c *cell) string { return fmt.Sprintf("%.1f%%", 100*float64(c.hit)/float64(max(c.n, 1))) }
	fmt.Fprintf(w, "# promptguard: held-out figures on dev + train\n\n")
	fmt.Fprintf(w, "%d records (injection and harmful, .dev and .train), every one scored by a model that never saw it: the %d trainable records out of fold (5 folds by sha256 of the text), the rest by the final model. Thresholds: user %.2f, data %.2f (documents). Written by `go run ./plugins/promptguard/cmd/train -write=false -report …` (`make eval FILTER=promptguard`).\n\n",
		len(rs), countTrainable(rs), thUser, thData)
	fmt.Fprintf(w, "| kind | n | flagged | rate | cross-validated | never trained on | English | other languages |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, k := range []string{"direct", "jailbreak", "indirect", "benign", "benign-hard", "harmful-plain"} {
		c := by["kind"][k]
		if c == nil {
			continue
		}
		cells := []string{}
		for _, sub := range []string{"kind-how|cross-validated", "kind-how|never trained on", "kind-en|English", "kind-en|other languages"} {
			t, key, _ := strings.Cut(sub, "|")
			if x := by[t][k+"|"+key]; x != nil {
				cells = append(cells, fmt.Sprintf("%s (%d/%d)", rate(x), x.hit, x.n))
			} else {
				cells = append(cells, "–")
			}
		}
		name := k
		if !positive(k) {
			name += " (FPR)"
		}
		fmt.Fprintf(w, "| %s | %d | %d | **%s** | %s |\n", name, c.n, c.hit, rate(c), strings.Join(cells, " | "))
	}
	for _, where := range []string{"prompts", "documents"} {
		if x := by["kind-where"]["benign|"+where]; x != nil {
			fmt.Fprintf(w, "| ↳ benign %s | %d | %d | %s | | | | |\n", where, x.n, x.hit, rate(x))
		}
	}
	prec := float64(tp) / float64(max(tp+fp, 1))
	fmt.Fprintf(w, "\nConfusion (attacks positive): TP %d, FN %d, FP %d, TN %d; precision %.1f%%, recall %.1f%%, FPR %.1f%%.\n",
		tp, fn, fp, tn, 100*prec, 100*float64(tp)/float64(max(tp+fn, 1)), 100*float64(fp)/float64(max(fp+tn, 1)))
	for _, t := range []struct{ table, title string }{{"source", "By source"}, {"lang", "By language"}} {
		fmt.Fprintf(w, "\n## %s\n\n| kind | %s | n | flagged | rate |\n|---|---|---:|---:|---:|\n", t.title, t.table)
		keys := make([]string, 0, len(by[t.table]))
		for k := range by[t.table] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c := by[t.table][k]
			kind, rest, _ := strings.Cut(k, "|")
			fmt.Fprintf(w, "| %s | %s | %d | %d | %s |\n", kind, rest, c.n, c.hit, rate(c))
		}
	}
}

func countTrainable(rs []*record) int {
	n := 0
	for _, r := range rs {
		if r.Trainable {
			n++
		}
	}
	return n
}

// render writes the Go source of the weights file.
func render(m *detect.Model, thUser, thData float64, inHash, cHash string) []byte {
	var b strings.Builder
	b.WriteString("// Code generated by go run ./plugins/promptguard/cmd/train; DO NOT EDIT.\n\npackage detect\n\n")
	b.WriteString("// DefaultThreshold and DefaultDataThreshold are the score thresholds chosen by cmd/train for trusted-role\n")
	b.WriteString("// segments (user, system) and for untrusted data (tool results, documents).\n")
	fmt.Fprintf(&b, "const (\n\tDefaultThreshold     = %s\n\tDefaultDataThreshold = %s\n)\n\n",
		strconv.FormatFloat(thUser, 'f', -1, 64), strconv.FormatFloat(thData, 'f', -1, 64))
	b.WriteString("// Training fingerprints, checked by cmd/train's tests: the sha256 of the training input (parameters and\n")
	b.WriteString("// every trainable record's label, fold, weight and features), of a model fitted on a fixed subset by the\n")
	b.WriteString("// training code, and of the hashed weights below.\n")
	fmt.Fprintf(&b, "const (\n\tTrainingInputHash = %q\n\tTrainingCodeHash = %q\n\tHashedWeightsHash = %q\n)\n\n",
		inHash, cHash, sha256Hex(m.Hashed))
	b.WriteString("var defaultModel = Model{\n")
	fmt.Fprintf(&b, "\tHashScale: %s,\n", strconv.FormatFloat(float64(m.HashScale), 'g', -1, 32))
	fmt.Fprintf(&b, "\tBias:      %s,\n", strconv.FormatFloat(float64(m.Bias), 'g', -1, 32))
	fmt.Fprintf(&b, "\tWindow:    %d,\n", m.Window)
	b.WriteString("\tDense: [NumDense]float32{\n")
	for i, w := range m.Dense {
		fmt.Fprintf(&b, "\t\t%s, // %s\n", strconv.FormatFloat(float64(w), 'g', -1, 32), detect.Signal(i).String())
	}
	b.WriteString("\t},\n\tHashed: hashedWeights,\n")
	fmt.Fprintf(&b, "\tMinHashed: %d,\n", m.MinHashed)
	fmt.Fprintf(&b, "\tShort: SignalModel{\n\t\tBias: %s,\n\t\tDense: [NumDense]float32{\n", strconv.FormatFloat(float64(m.Short.Bias), 'g', -1, 32))
	for i, w := range m.Short.Dense {
		fmt.Fprintf(&b, "\t\t\t%s, // %s\n", strconv.FormatFloat(float64(w), 'g', -1, 32), detect.Signal(i).String())
	}
	b.WriteString("\t\t},\n\t},\n}\n\n")
	b.WriteString("// hashedWeights holds one int8 weight per hashed n-gram bucket, excess-128 (HashedByte).\nconst hashedWeights = \"\" +\n")
	const line = 48
	for i := 0; i < len(m.Hashed); i += line {
		j := min(i+line, len(m.Hashed))
		b.WriteString("\t")
		b.WriteString(quote(m.Hashed[i:j]))
		if j < len(m.Hashed) {
			b.WriteString(" +")
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// quote renders bytes as a Go string literal using \x escapes for everything but letters and digits (stable
// and independent of strconv's choices for printable runes).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func dump(rs []*record, p map[*record]float64, th float64) {
	if os.Getenv("PG_DUMP") == "" {
		return
	}
	d := detect.New(detect.Options{Model: &detect.Model{}})
	for _, r := range rs {
		hit := p[r] >= th
		if r.Label == 0 && hit {
			a := d.Analyze(r.Text)
			t := r.Text
			if len(t) > 260 {
				t = t[:130] + " … " + t[len(t)-130:]
			}
			fmt.Printf("DUMP %s %s %.2f %v %q\n", r.Kind, r.Source[:min(30, len(r.Source))], p[r], a.SignalNames(), t)
		}
	}
}

// curve prints out-of-fold FPR and recall at a few thresholds (all records scored with the user threshold).
func curve(rs []*record, p map[*record]float64) {
	kinds := []string{"benign", "benign-hard", "harmful-plain", "direct", "jailbreak", "indirect"}
	fmt.Printf("\nthreshold curve (out-of-fold): %v\n", kinds)
	for _, th := range []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9} {
		fmt.Printf("  %.1f", th)
		for _, k := range kinds {
			var n, hit int
			for _, r := range rs {
				if r.Kind == k {
					n++
					if p[r] >= th {
						hit++
					}
				}
			}
			fmt.Printf("  %5.1f%%", 100*float64(hit)/float64(max(n, 1)))
		}
		fmt.Println()
	}
}

// priors are hand-set weights for evasion signals that the public data does not exercise: a signal present in
// fewer than minSupport fitted records cannot be learned, so its weight is set from this table instead (and
// reported). They encode "an attack phrase hidden by an encoding is at least as bad as the phrase in clear".
var priors = map[detect.Signal]float64{
	detect.SigEncodedInstruction: 3,
	detect.SigROT13:              2,
	detect.SigASCIISmuggling:     2.5,
	detect.SigHomoglyphs:         1,
	detect.SigSpacedLetters:      0.5,
	detect.SigCompatChars:        0.5,
	detect.SigLeetspeak:          1,
	detect.SigInvisibleChars:     0.5,
	detect.SigEncodedBase64:      0.5,
	detect.SigEncodedHex:         0.5,
	detect.SigEncodedURL:         0.5,
	detect.SigEncodedHTML:        0.5,
	detect.SigCipher:             0.5,
}

const minSupport = 5

// fixed are signal weights set by hand and not fitted: data_imperative fires only on untrusted data, and the
// trainable data records are nearly all injections (8 benign documents), so a fitted weight would learn "data
// is an injection" rather than what an imperative inside data is worth. The other weights are fitted around it.
var fixed = map[detect.Signal]float64{detect.SigDataImperative: 6}

// floors are priors that also bound the learned weight from below: hidden attack phrases stay strong evidence
// even when a handful of training records happen to carry them.
// Homoglyphs (letters of another script inside a Latin word) are evasion by construction, whatever the few
// records that carry them say.
var floors = map[detect.Signal]bool{detect.SigEncodedInstruction: true, detect.SigROT13: true, detect.SigASCIISmuggling: true,
	detect.SigHomoglyphs: true}

func applyPriors(m *lr, rs []*record) {
	for s, w := range priors {
		n := 0
		for _, r := range rs {
			if r.dense[s] > 0 {
				n++
			}
		}
		if n < minSupport || (floors[s] && m.dense[s] < w) {
			m.dense[s] = w
		}
	}
}

func writeScores(path string, rs []*record, oof, held map[*record]float64) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train: scores:", err)
		return
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()
	for _, r := range rs {
		p, ok := oof[r]
		how := "oof"
		if !ok {
			p, how = held[r], "final"
		}
		line, _ := json.Marshal(map[string]any{"text": r.Text, "kind": r.Kind, "source": r.Source, "tags": r.Tags, "lang": r.Lang,
			"trainable": r.Trainable, "data": r.data, "score": math.Round(p*1000) / 1000, "scored_by": how})
		w.Write(append(line, '\n'))
	}
}
