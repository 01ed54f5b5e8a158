package check

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/pii"
	"github.com/wasmguard/wasmguard/sdk/swar"
)

// Check names a family of checks. The names double as the telemetry finding family and as reason-code stems.
type Check string

// The checks.
const (
	CheckExfil      Check = "exfiltration"
	CheckMarkup     Check = "unsafe_markup"
	CheckSecret     Check = "secret_leak"
	CheckPromptLeak Check = "prompt_leak"
	CheckSchema     Check = "json_schema"
)

// Action is what the filter does with a finding of a check.
type Action string

// The actions.
const (
	ActionBlock    Action = "block"    // refuse the response (local reply, or a terminal error event in streams)
	ActionRedact   Action = "redact"   // replace the finding's span by its neutral replacement and continue
	ActionAnnotate Action = "annotate" // leave the text, report the finding (header, log, metric)
)

// Finding is one detection. Offsets are byte offsets into the scanned text (the whole text of one segment, also
// in streams). Replace is the neutral text that takes the place of [Start, End) under ActionRedact; CanRedact is
// false for findings that have no meaningful span to neutralise (e.g. leak phrasing), which the filter escalates
// to block under ActionRedact.
type Finding struct {
	Check     Check
	Type      string // sub-type, e.g. "markdown_image", "script_tag", "aws_access_key", "canary"
	Start     int
	End       int
	Score     float64
	Replace   string
	CanRedact bool
}

// Defaults of the tunable knobs (also the config defaults of the filter).
const (
	DefaultExfilThreshold        = 0.6
	DefaultLeakNGram             = 8
	DefaultLeakPhraseThreshold   = 1.0
	DefaultURLPlaceholder        = "#wasmguard-blocked-url"
	DefaultMaxConstruct          = 4096
	defaultMinCanaryLen          = 3
	maxCanaries                  = 256
	maxCanaryLen                 = 1024
	maxRefLabels                 = 256
	maxSystemPromptBytes         = 64 << 10
	redactedText                 = "[REDACTED]"
	minSplitCanaryTokenLen       = 4
	maxSplitCanaryTokens         = 8
	defaultLeakNGramMinWordsText = 3
)

// Config selects and tunes the checks. The zero value enables nothing.
type Config struct {
	Exfil   ExfilConfig
	Markup  MarkupConfig
	Secrets SecretsConfig
	Leak    LeakConfig
	// MaxConstruct bounds how far a construct (link, tag, code span, key, private key block) may extend; it is
	// also the bound of stream hold-back. Longer constructs are decided on what is there. 0 means
	// DefaultMaxConstruct.
	MaxConstruct int
}

// ExfilConfig configures the exfiltration-link check.
type ExfilConfig struct {
	Enabled bool
	Action  Action
	// AllowedDomains lists hosts that links and images may point to: "example.com" (that host only) or
	// "*.example.com" (any subdomain, not the apex). When non-empty, every link/image to another host is flagged.
	AllowedDomains []string
	// Threshold is the payload score (0..1+) from which a URL is flagged regardless of the allow-list.
	Threshold float64
	// ImagesOnly restricts the check to auto-loading references (markdown/HTML images and the like).
	ImagesOnly bool
	// Placeholder replaces a flagged URL under redact.
	Placeholder string
}

// MarkupConfig configures the unsafe-markup check.
type MarkupConfig struct {
	Enabled bool
	Action  Action
	// ScanCode also inspects fenced code blocks and inline code spans (by default they are skipped: a markdown
	// renderer shows them as text).
	ScanCode bool
}

// SecretsConfig configures the secret-leak check.
type SecretsConfig struct {
	Enabled bool
	Action  Action
}

// LeakConfig configures the system-prompt-leak check.
type LeakConfig struct {
	Enabled bool
	Action  Action
	// Canaries are strings that must never appear in an output (matched case-insensitively, with whitespace runs
	// collapsed). A multi-word canary also matches when each of its words (of 4+ characters) appears in the output
	// as a whole word.
	Canaries []string
	// SystemPrompt is the system prompt; only hashes of its word n-grams are kept.
	SystemPrompt string
	NGram        int // words per n-gram (default 8)
	// FromRequest also fingerprints the system prompt of each request (see Checker.ForRequest).
	FromRequest bool
	// Paraphrase also reports an answer that restates most of one system-prompt sentence in other words or
	// order (system_prompt_paraphrase, leakpara.go), three or more of its short rules in order
	// (system_prompt_rules, leakrules.go), or most of its rare tokens in order, as a translation does
	// (system_prompt_tokens, leaktok.go). Off by default: an answer that is meant to share facts of the prompt (a
	// policy, opening hours) restates them too.
	Paraphrase bool
	// InjectCanary: the filter writes a canary token derived from the system prompt at its start (CanaryToken,
	// InjectCanary) and reports answers that carry it in any form (Checker.WithCanary).
	InjectCanary bool
	// Phrases enables the leak-phrasing heuristic ("my instructions are", "You are a ... assistant" openings).
	Phrases         bool
	PhraseThreshold float64
}

// Checker is a compiled Config. It is immutable and safe to share between requests.
type Checker struct {
	cfg            Config
	maxConstruct   int
	allow          []domainRule
	canaries       []canary
	canaryFirst    [256]bool
	splitCanary    [][]string
	splitOf        []int // index into splitCanary of each canary, or -1
	ngram          int
	ngrams         hashSet
	reqNGrams      hashSet    // from the request's system prompt (ForRequest)
	ngramPrefix    *bitFilter // chained hashes of every n-gram prefix (buildNGrams)
	reqNGramPrefix *bitFilter
	ngramFirstF    []uint64 // filterHash of the words that start an n-gram (ngramStarts)
	ngramPairF     []uint64 // pairHash of those words and the next
	reqNGramFirstF []uint64
	reqNGramPairF  []uint64
	secrets        *pii.Scanner
	// scanning tables (finish): the scanner's skip loop consults them to pass over bytes no stage acts on
	class   [256]uint8  // clsWord, clsTrig, clsCanary, clsBare bits
	canary2 [256]uint32 // canary2[first byte] has bit (second byte & 31) of some canary
	// word filters (Bloom-style, keyed by filterHash): a word whose bit is clear starts no n-gram, leak phrase or
	// split-canary word, so the skip loop passes over it
	wordBits  *bitFilter   // words at which a leak phrase or split-canary word may start; nil: none
	firstBits *bitFilter   // words that start an n-gram of the prompt(s); nil: none
	pairBits  *bitFilter   // pairs of words that start an n-gram
	acrostic  []string     // single-token canaries (letters, digits): acrostics, hints and spelled-out forms of them
	variants  []variant    // encodings of those, matched as whole words (lower case)
	near      []string     // single-word canaries of 6+ letters whose inflections/translations count (nearWord)
	hintSecs  []string     // one-token canaries of 3+ letters/digits: hints about them (hintAt)
	pieces    [][]string   // pieces of canaries that reveal them when all appear quoted (leakmore.go)
	units     []unitSecret // canaries of one symbol repeated: the symbol with its count
	numbers   []int        // numeric canaries: described arithmetically ("the 10th prime")
	forms     []canaryForm // other written forms of canaries, matched at word starts
	para      *paraIndex   // content words of the system prompt(s) by sentence (LeakConfig.Paraphrase)
	enc       *encIndex    // the system prompt(s)' words in Pig Latin and ROT13 (leakenc.go)
	tok       *tokIndex    // the system prompt(s)' rare tokens (leaktok.go, LeakConfig.Paraphrase)
	rules     *paraIndex   // the system prompt(s)' short rules (leakrules.go, LeakConfig.Paraphrase)
	linkish   bool         // exfiltration or markup enabled
	startBits uint8        // classes that matter at a word start: clsBare (links), clsWord (word filters)
	swar      bool         // the skip loop's 8-bytes-at-a-time path may run: no lower-case letter starts a canary
	visitAll  bool         // tests: every stage at every position (no skip loop, no stage gating): the reference
	reqs      *reqCache    // ForRequest's derived checkers of the last system prompts (nil: derived checkers)
}

// Byte classes of the skip loop.
const (
	clsWord   = 1 << iota // a word byte (letters, digits, non-ASCII)
	clsTrig               // a byte at which some stage may act: ` [ ! < -
	clsCanary             // the first byte of a canary
	clsBare               // h w j v: may start an auto-link or a script URL at a word start
	clsNL                 // '\n': the next position starts a line
)

// filterHash is the word filters' key of a word (at most 64 bytes): its first and last byte and its length,
// mixed. It costs nothing per byte (the scan for the word's end is needed anyway; in wasm a per-byte hash was most
// of the scanner's time) and is a function of the ASCII-lower-cased word (OR 0x20 folds A-Z onto a-z and keeps
// digits; it also merges some non-ASCII bytes): words sharing the key are false positives, which the exact checks
// behind the filters reject.
func filterHash(w []byte) uint64 {
	if len(w) == 0 {
		return 0
	}
	return mixKey(w[0], w[len(w)-1], len(w))
}

func mixKey(first, last byte, n int) uint64 {
	h := (uint64(first|0x20) | uint64(last|0x20)<<8 | uint64(n)<<16) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// scanWord reads the word starting at p (at most 64 bytes): its end, its filterHash and the union of the byte
// classes in it. The skip loop has it inlined (a call per word is costly in wasm); this is the reference a test
// holds filterHash to.
func (k *Checker) scanWord(t []byte, p int) (q int, h uint64, cls uint8) {
	e := min(len(t), p+64)
	for q = p; q < e; q++ {
		cl := k.class[t[q]]
		if cl&clsWord == 0 {
			break
		}
		cls |= cl
	}
	if q == p {
		return q, 0, cls
	}
	return q, mixKey(t[p], t[q-1], q-p), cls
}

type canary struct {
	norm []byte // lower-case, whitespace runs collapsed to one space
	typ  string // finding type: "canary", or the encoding of a variant ("canary_reversed", ...)
}

type domainRule struct {
	host     string
	wildcard bool
}

// Compile validates c and prepares the checker. Errors name the offending field.
func Compile(c Config) (*Checker, error) {
	k := &Checker{cfg: c, maxConstruct: c.MaxConstruct}
	if k.maxConstruct <= 0 {
		k.maxConstruct = DefaultMaxConstruct
	}
	if k.cfg.Exfil.Threshold <= 0 {
		k.cfg.Exfil.Threshold = DefaultExfilThreshold
	}
	if k.cfg.Exfil.Placeholder == "" {
		k.cfg.Exfil.Placeholder = DefaultURLPlaceholder
	}
	if k.cfg.Leak.PhraseThreshold <= 0 {
		k.cfg.Leak.PhraseThreshold = DefaultLeakPhraseThreshold
	}
	k.ngram = c.Leak.NGram
	if k.ngram <= 0 {
		k.ngram = DefaultLeakNGram
	}
	var errs []error
	for i, d := range c.Exfil.AllowedDomains {
		r, err := parseDomainRule(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("allowed_domains[%d]: %w", i, err))
			continue
		}
		k.allow = append(k.allow, r)
	}
	if len(c.Leak.Canaries) > maxCanaries {
		errs = append(errs, fmt.Errorf("system_prompt_canaries: at most %d entries; got %d", maxCanaries, len(c.Leak.Canaries)))
	}
	for i, s := range c.Leak.Canaries {
		n := normalizeCanary(s)
		if len(n) < defaultMinCanaryLen || len(n) > maxCanaryLen {
			errs = append(errs, fmt.Errorf("system_prompt_canaries[%d]: must be %d to %d bytes after trimming; got %d", i, defaultMinCanaryLen, maxCanaryLen, len(n)))
			continue
		}
		k.addCanary(n)
		k.addCodeForms(strings.TrimSpace(s))
	}
	if len(c.Leak.SystemPrompt) > maxSystemPromptBytes {
		errs = append(errs, fmt.Errorf("system_prompt: at most %d bytes; got %d", maxSystemPromptBytes, len(c.Leak.SystemPrompt)))
	} else if c.Leak.SystemPrompt != "" {
		k.ngrams, k.ngramPrefix = buildNGrams(c.Leak.SystemPrompt, k.ngram)
		if c.Leak.Paraphrase {
			k.para = buildPara(c.Leak.SystemPrompt)
			k.tok = buildTok(c.Leak.SystemPrompt)
			k.rules = buildRules(c.Leak.SystemPrompt)
		}
		k.enc = buildEnc(c.Leak.SystemPrompt)
		k.ngramFirstF, k.ngramPairF = ngramStarts(c.Leak.SystemPrompt, k.ngram)
		if len(k.ngrams) == 0 {
			errs = append(errs, fmt.Errorf("system_prompt: needs at least %d words (the n-gram size)", k.ngram))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.Secrets.Enabled {
		k.secrets = pii.New(secretTypes(), nil)
	}
	k.finish()
	if k.FromRequest() {
		k.reqs = &reqCache{}
	}
	return k, nil
}

// addCanary adds a canary and the encodings in which a model is asked to smuggle a secret out: reversed,
// spelled letter by letter (spaces or hyphens), ROT13, base64 and hex. Variants only for a single token of 5+
// letters/digits (a short one reversed or spelled out is too common), while room is left.
//
// The encodings are whole words matched at word starts (the word filters let the skip loop pass over every other
// word): as canaries their first bytes (a, s, u, ...) would stop the skip loop inside most words.
func (k *Checker) addCanary(n []byte) {
	k.addCanaryTyped(n, "canary")
	if w := variantWord(n); w != nil && len(k.acrostic) < maxCanaries {
		for _, v := range canaryVariants(w) {
			k.variants = append(k.variants, variant{name: "canary_" + v.name, text: strings.ToLower(v.text)})
		}
		k.acrostic = append(k.acrostic, string(w))
		if len(w) >= minNearLen && isLetters(w) {
			k.near = append(k.near, string(w))
		}
	}
	k.addMoreCanaries(n)
}

func (k *Checker) addCanaryTyped(n []byte, typ string) {
	if len(n) < 2 {
		return
	}
	k.canaries = append(k.canaries, canary{norm: n, typ: typ})
	k.canaryFirst[n[0]] = true
	if n[0] >= 'a' && n[0] <= 'z' {
		k.canaryFirst[n[0]-32] = true
	}
	if n[1] == ' ' {
		for _, sp := range []byte(" \t\n\r\f\v") {
			k.canary2[n[0]] |= 1 << (sp & 31)
		}
	} else {
		k.canary2[n[0]] |= 1 << (n[1] & 31)
	}
	k.splitOf = append(k.splitOf, -1)
	if toks := splitCanaryTokens(string(n)); toks != nil {
		k.splitOf[len(k.splitOf)-1] = len(k.splitCanary)
		k.splitCanary = append(k.splitCanary, toks)
	}
}

// finish computes the derived scanning tables.
func (k *Checker) finish() {
	c := k.cfg
	k.linkish = c.Exfil.Enabled || c.Markup.Enabled
	k.class = [256]uint8{}
	for i := 0; i < 256; i++ {
		b := byte(i)
		if isWordByte(b) {
			k.class[i] |= clsWord
		}
		if c.Leak.Enabled && len(k.canaries) > 0 && k.canaryFirst[i] {
			k.class[i] |= clsCanary
		}
	}
	for _, b := range []byte("`[!<-") {
		k.class[b] |= clsTrig
	}
	k.class['\n'] = clsNL
	if k.linkish {
		for _, b := range []byte("hHwWjJvV") {
			k.class[b] |= clsBare
		}
	}
	k.wordBits, k.firstBits, k.pairBits = nil, nil, nil
	if c.Leak.Enabled && (len(k.ngramFirstF) > 0 || len(k.reqNGramFirstF) > 0) {
		n := len(k.ngramFirstF) + len(k.reqNGramFirstF)
		k.firstBits, k.pairBits = newBitFilter(n), newBitFilter(n)
		for _, h := range k.ngramFirstF {
			k.firstBits.add(h)
		}
		for _, h := range k.reqNGramFirstF {
			k.firstBits.add(h)
		}
		for _, h := range k.ngramPairF {
			k.pairBits.add(h)
		}
		for _, h := range k.reqNGramPairF {
			k.pairBits.add(h)
		}
	}
	k.swar = swar.LittleEndian
	for c := byte('a'); c <= 'z'; c++ {
		if k.class[c]&clsCanary != 0 {
			k.swar = false
		}
	}
	k.startBits = 0
	if k.linkish {
		k.startBits |= clsBare
	}
	if c.Leak.Enabled && (len(k.splitCanary) > 0 || c.Leak.Phrases || k.firstBits != nil || len(k.near) > 0 || len(k.acrostic) > 0 || k.hasMoreLeak()) {
		k.startBits |= clsWord
	}
	if c.Leak.Enabled && (len(k.splitCanary) > 0 || c.Leak.Phrases || len(k.near) > 0 || len(k.acrostic) > 0 || k.hasMoreLeak()) {
		f := newBitFilter(len(leakPhrases) + 8*len(k.splitCanary) + 26*nearExtra*len(k.near) + len(hintWords) + 8*len(k.acrostic) + 33*4*len(k.pieces) + 33*len(k.units) + k.enc.size() + k.tok.size())
		k.moreKeys(f)
		if len(k.acrostic) > 0 {
			for _, w := range k.acrostic {
				f.add(mixKey(w[0], w[0], 1)) // a spelled-out secret starts with its first letter alone
			}
			for _, v := range k.variants {
				f.add(filterHash([]byte(v.text)))
			}
		}
		for _, w := range k.near {
			// every word nearWord may accept: same first letter, any last letter, length len-1 .. len+nearExtra-2
			for n := len(w) - 1; n < len(w)-1+nearExtra; n++ {
				for last := byte('a'); last <= 'z'; last++ {
					f.add(mixKey(w[0], last, n))
				}
			}
		}
		for _, toks := range k.splitCanary {
			for _, t := range toks {
				f.add(filterHash([]byte(t)))
			}
		}
		if c.Leak.Phrases {
			for _, lp := range leakPhrases {
				ph := strings.TrimPrefix(lp.phrase, "^")
				e := 0
				for e < len(ph) && isWordByte(ph[e]) {
					e++
				}
				f.add(filterHash([]byte(ph[:e])))
			}
		}
		k.wordBits = f
	}
}

// FromRequest reports whether the checker wants the request's system prompt (LeakConfig.FromRequest).
func (k *Checker) FromRequest() bool { return k.cfg.Leak.Enabled && k.cfg.Leak.FromRequest }

// ForRequest returns a checker that also fingerprints the system prompt(s) of the request being answered: its
// word n-grams, and the secrets it declares ("the access code is X", "password: X") as canaries. k is not
// changed. Texts beyond 64 KiB in total are ignored (the configured fingerprints still apply).
//
// The checker derived for a system prompt is a function of the prompt: the last few are kept (an application
// sends the same system prompt with every request), so fingerprinting costs once per prompt, not per request.
func (k *Checker) ForRequest(systemPrompts []string) *Checker {
	total := 0
	for _, sp := range systemPrompts {
		total += len(sp)
	}
	if !k.FromRequest() || total == 0 || total > maxSystemPromptBytes {
		return k
	}
	if k.reqs == nil {
		return k.forRequest(systemPrompts)
	}
	if d := k.reqs.get(systemPrompts); d != nil {
		return d
	}
	// the derived checker outlives the request: build it from copies (the request's strings may be views of a
	// buffer the host reuses)
	own := make([]string, len(systemPrompts))
	for i, sp := range systemPrompts {
		own[i] = strings.Clone(sp)
	}
	d := k.forRequest(own)
	k.reqs.put(own, d)
	return d
}

// reqCacheSize is how many system prompts ForRequest remembers (each at most maxSystemPromptBytes).
const reqCacheSize = 4

// reqCache holds ForRequest's last derived checkers, keyed by the system prompts. The mutex makes a shared
// Checker safe to use from several goroutines natively; in the filter (one thread) it is never contended.
type reqCache struct {
	mu      sync.Mutex
	prompts [reqCacheSize][]string
	derived [reqCacheSize]*Checker
	next    int // the entry replaced next (round robin)
}

func (c *reqCache) get(prompts []string) *Checker {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.prompts {
		if c.derived[i] != nil && sameStrings(p, prompts) {
			return c.derived[i]
		}
	}
	return nil
}

func (c *reqCache) put(prompts []string, d *Checker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompts[c.next], c.derived[c.next] = prompts, d
	c.next = (c.next + 1) % reqCacheSize
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// forRequest derives the checker of ForRequest (uncached).
func (k *Checker) forRequest(systemPrompts []string) *Checker {
	d := *k
	d.reqs = nil
	d.canaries = append([]canary(nil), k.canaries...)
	d.splitCanary = append([][]string(nil), k.splitCanary...)
	d.splitOf = append([]int(nil), k.splitOf...)
	d.acrostic = append([]string(nil), k.acrostic...)
	d.variants = append([]variant(nil), k.variants...)
	d.near = append([]string(nil), k.near...)
	d.hintSecs = append([]string(nil), k.hintSecs...)
	d.pieces = append([][]string(nil), k.pieces...)
	d.units = append([]unitSecret(nil), k.units...)
	d.numbers = append([]int(nil), k.numbers...)
	d.forms = append([]canaryForm(nil), k.forms...)
	joined := strings.Join(systemPrompts, "\n")
	d.reqNGrams, d.reqNGramPrefix = buildNGrams(joined, d.ngram)
	if d.cfg.Leak.Paraphrase {
		d.para = buildPara(d.cfg.Leak.SystemPrompt + "\n" + joined)
		d.tok = buildTok(d.cfg.Leak.SystemPrompt + "\n" + joined)
		d.rules = buildRules(d.cfg.Leak.SystemPrompt + "\n" + joined)
	}
	d.reqNGramFirstF, d.reqNGramPairF = ngramStarts(joined, d.ngram)
	d.enc = buildEnc(d.cfg.Leak.SystemPrompt + "\n" + joined)
	for _, sp := range systemPrompts {
		for _, sec := range declaredValues(sp, 1) {
			if len(d.canaries) >= maxCanaries {
				break
			}
			if n := normalizeCanary(sec); len(n) >= defaultMinCanaryLen && len(n) <= maxCanaryLen {
				d.addCanary(n)
				d.addCodeForms(strings.TrimSpace(sec))
			} else if v, ok := smallNumber(string(n)); ok && len(d.numbers) < maxCanaries {
				d.numbers = append(d.numbers, v) // too short to match as text ("29"), not to describe
			}
		}
	}
	d.finish()
	return &d
}

func parseDomainRule(d string) (domainRule, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	r := domainRule{}
	if strings.HasPrefix(d, "*.") {
		r.wildcard = true
		d = d[2:]
	}
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return r, errors.New("must be a host name like example.com or *.example.com; got an empty name")
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '[' || c == ']') {
			return r, fmt.Errorf("must be a host name like example.com or *.example.com; got %q", d)
		}
	}
	r.host = d
	return r, nil
}

// hostAllowed reports whether host (lower-case) matches the allow-list.
func (k *Checker) hostAllowed(host string) bool {
	for _, r := range k.allow {
		if r.wildcard {
			if len(host) > len(r.host)+1 && strings.HasSuffix(host, r.host) && host[len(host)-len(r.host)-1] == '.' {
				return true
			}
		} else if host == r.host {
			return true
		}
	}
	return false
}

// Action returns the configured action of a check (annotate when unset).
func (k *Checker) Action(c Check) Action {
	var a Action
	switch c {
	case CheckExfil:
		a = k.cfg.Exfil.Action
	case CheckMarkup:
		a = k.cfg.Markup.Action
	case CheckSecret:
		a = k.cfg.Secrets.Action
	case CheckPromptLeak:
		a = k.cfg.Leak.Action
	}
	if a == "" {
		return ActionAnnotate
	}
	return a
}

// Enabled reports whether any text check is enabled.
func (k *Checker) Enabled() bool {
	return k.cfg.Exfil.Enabled || k.cfg.Markup.Enabled || k.cfg.Secrets.Enabled || k.cfg.Leak.Enabled
}

// Scan runs every enabled check over a whole text.
func (k *Checker) Scan(text string) []Finding {
	var s scanner
	s.init(k)
	// the scanner only reads the text of a whole-text scan (only Stream appends to its own buffer): no copy
	s.text = unsafe.Slice(unsafe.StringData(text), len(text))
	s.run(true)
	return s.out
}

// Apply returns text with the spans of the findings for which redact returns true replaced by their Replace
// text. Overlapping findings are merged: the one starting earlier (at the same start: the one found first) wins
// and the other is dropped.
func Apply(text string, findings []Finding, redact func(Finding) bool) string {
	var b strings.Builder
	last := 0
	for _, f := range sortedFindings(findings) {
		if !redact(f) || !f.CanRedact || f.Start < last || f.End > len(text) || f.Start > f.End {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:f.Start])
		b.WriteString(f.Replace)
		last = f.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func sortedFindings(fs []Finding) []Finding {
	out := make([]Finding, len(fs))
	copy(out, fs)
	// stable insertion sort by start (lists are short): among findings starting at the same byte the one found
	// first wins, exactly as in a Stream
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Start < out[j-1].Start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
