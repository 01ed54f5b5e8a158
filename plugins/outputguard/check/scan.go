package check

import (
	"math/bits"
	"strings"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/pii"
	"github.com/wasmguard/wasmguard/sdk/swar"
)

// The single-pass engine. The scanner examines positions in order; at each position it runs the stages below.
// A stage that cannot decide yet (the construct starting here runs past the end of the text and more text may
// come) stops the scan; the next run resumes at the same position and stage. A stage only changes state when it
// decides, so a position is examined exactly once however the text is chunked, and every finding starts at or
// after the position where it was decided: everything before scanner.pos is final.

const (
	stageCode = iota
	stageLink
	stageTag
	stageBare
	stageSecret
	stageCanary
	stageWords
	stageAcrostic
	numStages
)

type rng struct{ start, end int }

type scanner struct {
	k     *Checker
	text  []byte
	pos   int
	stage int
	atEOF bool
	out   []Finding

	// code: fenced blocks and inline spans (links/markup inside are not rendered)
	inFence       bool
	fenceMarkdown bool // the fence's info string is markdown / md
	fenceChar     byte
	fenceLen      int
	codeUntil     int

	// links
	skipImageBracket int   // position of the '[' of an image already handled at its '!'
	urlSkips         []rng // URL ranges already evaluated (no bare-URL/scheme detection inside)
	tagUntil         int   // end of the last tag examined (no nested tag detection inside)
	refUsed          map[string]bool
	refBad           map[string]Finding // suspicious reference definitions not yet used
	secretUntil      int
	secretNext       int // start of the next secret window
	nlFrom, nlTo     int // t[nlFrom:nlTo] holds no newline (secretWin's search, resumed on the next push)
	stage2           int // sub-stage inside the secret stage (PEM done)
	matches          []pii.Match
	urlBuf, pctBuf   []byte // judgeURL's decoding scratch
	rngBuf           []rng  // tag's URL ranges of one attribute

	// leak
	splitSeen   [][]bool
	splitFired  []bool
	phraseScore float64
	phraseFired bool
	ngramUntil  int
	words       []wordEntry
	acro        []byte // first letters of the lines so far (the last 64)
	acroStart   []int  // where each of them is
	acroFired   bool
	hintStart   int // where the first true hint was, or -1
	hintFired   bool
	lm          leakMore // pieces, counts, described numbers, hints per secret (leakmore.go)
}

func (s *scanner) init(k *Checker) {
	s.k = k
	s.skipImageBracket = -1
	s.hintStart = -1
	s.lm.init(k)
	if len(k.splitCanary) > 0 {
		s.splitSeen = make([][]bool, len(k.splitCanary))
		for i, t := range k.splitCanary {
			s.splitSeen[i] = make([]bool, len(t))
		}
		s.splitFired = make([]bool, len(k.splitCanary))
	}
}

func (s *scanner) add(f Finding) { s.out = append(s.out, f) }

// run scans as far as it can decide. atEOF says no more text will come.
func (s *scanner) run(atEOF bool) {
	s.atEOF = atEOF
	n := len(s.text)
	for s.pos < n {
		if s.stage == 0 {
			if s.pos = s.skip(s.pos); s.pos >= n {
				return
			}
		}
		p := s.pos
		t := s.text
		c := t[p]
		wordStart := isWordByte(c) && (p == 0 || !isWordByte(t[p-1]))
		for s.stage < numStages {
			// call only the stages that can act on this byte (a call per stage and position is costly in wasm);
			// each condition is the stage's own first test
			var wants bool
			switch s.stage {
			case stageCode:
				wants = c == '`' || lineStart(t, p)
			case stageLink:
				wants = c == '!' || c == '['
			case stageTag:
				wants = c == '<'
			case stageBare:
				lc := lower(c)
				wants = wordStart && (lc == 'h' || lc == 'w' || lc == 'j' || lc == 'v')
			case stageSecret:
				wants = c == '-' || p == s.secretNext
			case stageCanary:
				wants = s.k.canaryFirst[c]
			case stageWords:
				wants = wordStart
			case stageAcrostic:
				wants = lineStart(t, p) && len(s.k.acrostic) > 0
			}
			if (wants || s.k.visitAll) && !s.step(s.stage, p) {
				return
			}
			s.stage++
		}
		s.pos++
		s.stage = 0
		s.stage2 = 0
	}
}

// skip returns the first position at or after p where some stage may act (len(text) if none): the single pass
// over ordinary text. Most bytes cost one table lookup; a word costs one hash (when word-level leak checks are
// configured) and one bit test. Every test here is conservative: a position it passes over is one at which every
// stage is a no-op, so the findings are exactly those of visiting every position.
func (s *scanner) skip(p int) int {
	r, ps, pe, ph := s.skipScan(p)
	if ps >= 0 && ps < r && s.pairMaybe(pe, ph) {
		return ps // the pending n-gram start (its next word lies at or beyond r)
	}
	return r
}

// skipScan is skip's loop. A word that starts an n-gram of the prompt is confirmed by the next word (the pair
// filter) when the loop reaches it; the last such word not confirmed yet is returned as pending (start ps, end
// pe, hash ph; ps < 0: none) for skip to resolve.
func (s *scanner) skipScan(p int) (r, ps, pe int, ph uint64) {
	ps = -1
	t := s.text
	n := len(t)
	if p == 0 || t[p-1] == '\n' || s.k.visitAll {
		return p, ps, pe, ph // the start of the text or of a line (code fences)
	}
	k := s.k
	end := n
	if k.cfg.Secrets.Enabled && s.secretNext >= p && s.secretNext < n {
		end = s.secretNext // the start of the next secret window
	}
	class := &k.class
	starts := k.startBits
	wordBits, firstBits, pairBits := k.wordBits, k.firstBits, k.pairBits // locals: loaded once, not per word
	words := wordBits != nil || firstBits != nil
	w := t[:end] // the window this call may pass over (bounds checks elided against it)
	prev := class[t[p-1]]
	// (with word filters every word start stops the loop: the word path below jumps over words already)
	fast, anyStart := k.swar && starts&clsWord == 0, starts != 0
	for p < len(w) {
		if fast && p+8 <= len(w) {
			// 8 bytes at a time over lower-case words and blanks (most of an answer), inlined (a call per 8
			// bytes is costly in wasm). m flags every byte the byte loop below must look at: one that is
			// neither a lower-case ASCII letter nor a blank (that loop decides it; no lower-case letter starts a
			// canary here: k.swar), and a word start that matters (h w j v: links).
			// Every byte before the first flagged one is one at which the byte loop only moves on.
			x := *(*uint64)(unsafe.Pointer(&w[p]))
			t := x & swar.Low7
			lowerL := (t + swar.K*(0x80-'a')) &^ (t + swar.K*(0x80-'z'-1))
			y := x ^ swar.K*' '
			blank := ^((y&swar.Low7 + swar.Low7) | y) & swar.High
			m := swar.High&^(lowerL|blank) | x&swar.High
			if anyStart {
				first := uint64(^prev&clsWord) << 7 // 0x80: byte 0 follows a non-word byte
				st := lowerL & swar.High & (blank<<8 | first)
				if st != 0 {
					st &= zeroBytes(x^swar.K*'h') | zeroBytes(x^swar.K*'w') | zeroBytes(x^swar.K*'j') | zeroBytes(x^swar.K*'v')
				}
				m |= st
			}
			if m == 0 {
				p += 8
				prev = class[w[p-1]]
				continue
			}
			if i := bits.TrailingZeros64(m) >> 3; i > 0 {
				p += i
				prev = class[w[p-1]]
			}
		}
		c := w[p]
		cl := class[c]
		// branch-free test: a trigger, canary or newline byte, or a word start that matters; ordinary bytes take
		// no data-dependent branch (word boundaries would cost a misprediction each)
		if cl&(clsTrig|clsCanary|clsNL)|cl&starts&^(0-prev&clsWord) == 0 {
			prev = cl
			p++
			continue
		}
		if cl&clsWord != 0 {
			// a word start (the frequent case when word filters are configured) or a canary's first byte
			if cl&clsCanary != 0 && (p+1 >= n || k.canary2[lower(c)]&(1<<(lower(t[p+1])&31)) != 0) {
				return p, ps, pe, ph
			}
			if prev&clsWord == 0 {
				if cl&clsBare != 0 && s.bareCandidate(p) {
					return p, ps, pe, ph
				}
				if words {
					// the word's end and filter key (scanWord, inlined: a call per word is costly in wasm)
					q, wc := p, uint8(0)
					for e := min(n, p+64); q < e; q++ {
						cq := class[t[q]]
						if cq&clsWord == 0 {
							break
						}
						wc |= cq
					}
					h := mixKey(c, t[q-1], q-p)
					if q >= n && s.more(p, q) {
						return p, ps, pe, ph // the word is not complete yet
					}
					if wordBits != nil && wordBits.has(h) {
						return p, ps, pe, ph // a leak phrase or a split-canary word may start here
					}
					if ps >= 0 {
						if pairBits.has(pairHash(ph, h)) {
							return ps, -1, 0, 0 // a system-prompt n-gram may start at the previous word
						}
						ps = -1
					}
					if firstBits != nil && firstBits.has(h) {
						ps, pe, ph = p, q, h // confirmed or dropped by the next word
					}
					if wc&clsCanary == 0 && q < end {
						prev = clsWord
						p = q // no canary can start inside the word
						continue
					}
				}
			}
			prev = cl
			p++
			continue
		}
		if cl&clsNL != 0 {
			if p+1 < end {
				return p + 1, ps, pe, ph // a line start
			}
			prev = cl
			p++
			continue
		}
		if cl&clsCanary != 0 && (p+1 >= n || k.canary2[lower(c)]&(1<<(lower(t[p+1])&31)) != 0) {
			return p, ps, pe, ph
		}
		if cl&clsTrig != 0 {
			if p+1 >= n {
				return p, ps, pe, ph
			}
			d := t[p+1]
			switch c {
			case '`', '[':
				return p, ps, pe, ph
			case '!':
				if d == '[' {
					return p, ps, pe, ph
				}
			case '<':
				if d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' {
					return p, ps, pe, ph
				}
			case '-':
				if d == '-' && k.cfg.Secrets.Enabled {
					return p, ps, pe, ph
				}
			}
		}
		prev = cl
		p++
	}
	return end, ps, pe, ph
}

// zeroBytes has the high bit set in each byte of x that is 0 (exactly: no false positives).
func zeroBytes(x uint64) uint64 { return ^((x&swar.Low7 + swar.Low7) | x) & swar.High }

// pairMaybe: the word ending at q (filter hash h) and the next word may start a system-prompt n-gram (or more text is
// needed to tell).
func (s *scanner) pairMaybe(q int, h uint64) bool {
	k := s.k
	t := s.text
	n := len(t)
	p := q
	for q < n && k.class[t[q]]&clsWord != 0 {
		q++ // the rest of a word longer than 64 bytes
	}
	for q < n && k.class[t[q]]&clsWord == 0 {
		if q-p > k.maxConstruct {
			return true
		}
		q++
	}
	if q >= n {
		return true
	}
	e, h2, _ := k.scanWord(t, q)
	if e >= n && s.more(q, e) {
		return true
	}
	return k.pairBits.has(pairHash(h, h2))
}

// bareCandidate: the word at p may start an auto-link (http://, https://, www.) or a javascript:/vbscript: URL.
func (s *scanner) bareCandidate(p int) bool {
	t := s.text
	if p+1 >= len(t) {
		return true
	}
	d := lower(t[p+1])
	switch lower(t[p]) {
	case 'h':
		return d == 't'
	case 'w':
		return d == 'w'
	case 'j':
		return s.k.cfg.Markup.Enabled && (d == 'a' || d == '&' || d == '\t' || d == '\n' || d == '\r')
	case 'v':
		return s.k.cfg.Markup.Enabled && (d == 'b' || d == '&' || d == '\t' || d == '\n' || d == '\r')
	}
	return false
}

// more reports that a construct reaching end could still change with more text (and is within the cap).
func (s *scanner) more(start, end int) bool {
	return !s.atEOF && end >= len(s.text) && end-start < s.k.maxConstruct
}

func (s *scanner) step(stage, p int) bool {
	k := s.k
	switch stage {
	case stageCode:
		return s.code(p)
	case stageLink:
		if (k.cfg.Exfil.Enabled || k.cfg.Markup.Enabled) && (!s.inCode(p) || s.inFence && s.fenceMarkdown) {
			return s.link(p)
		}
	case stageTag:
		if (k.cfg.Exfil.Enabled || k.cfg.Markup.Enabled) && !s.inCode(p) && p >= s.tagUntil {
			return s.tag(p)
		}
	case stageBare:
		if (k.cfg.Exfil.Enabled || k.cfg.Markup.Enabled) && !s.inCode(p) && !s.inURL(p) && p >= s.tagUntil {
			return s.bare(p)
		}
	case stageSecret:
		if k.cfg.Secrets.Enabled {
			return s.secret(p)
		}
	case stageCanary:
		if k.cfg.Leak.Enabled && len(k.canaries) > 0 && k.canaryFirst[s.text[p]] {
			return s.canary(p)
		}
	case stageWords:
		if k.cfg.Leak.Enabled {
			return s.leakWords(p)
		}
	case stageAcrostic:
		if k.cfg.Leak.Enabled && len(k.acrostic) > 0 && lineStart(s.text, p) {
			return s.acrosticAt(p)
		}
	}
	return true
}

func (s *scanner) inCode(p int) bool {
	return !s.k.cfg.Markup.ScanCode && (s.inFence || p < s.codeUntil)
}

func (s *scanner) inURL(p int) bool {
	for len(s.urlSkips) > 0 && s.urlSkips[0].end <= p {
		s.urlSkips = s.urlSkips[1:]
	}
	for _, r := range s.urlSkips {
		if p >= r.start && p < r.end {
			return true
		}
	}
	return false
}

func (s *scanner) skipURL(start, end int) {
	// keep sorted by start; the list stays tiny
	r := rng{start, end}
	i := len(s.urlSkips)
	s.urlSkips = append(s.urlSkips, r)
	for i > 0 && s.urlSkips[i-1].start > r.start {
		s.urlSkips[i] = s.urlSkips[i-1]
		i--
	}
	s.urlSkips[i] = r
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func lineStart(t []byte, p int) bool { return p == 0 || t[p-1] == '\n' }

// code tracks fenced code blocks and inline code spans.
func (s *scanner) code(p int) bool {
	t := s.text
	c := t[p]
	if lineStart(t, p) {
		// up to 3 spaces of indentation, then ``` or ~~~
		q := p
		for q < len(t) && q-p < 3 && t[q] == ' ' {
			q++
		}
		if q >= len(t) {
			return !s.more(p, q)
		}
		if f := t[q]; f == '`' || f == '~' {
			r := q
			for r < len(t) && t[r] == f {
				r++
			}
			if r >= len(t) && s.more(p, r) {
				return false
			}
			run := r - q
			if run >= 3 {
				// need the rest of the line: an opener's info string cannot contain backticks
				e := r
				for e < len(t) && t[e] != '\n' {
					e++
				}
				if e >= len(t) && s.more(p, e) {
					return false
				}
				if s.inFence {
					if f == s.fenceChar && run >= s.fenceLen && onlySpace(t[r:e]) {
						s.inFence = false
						s.codeUntil = e
					}
					return true
				}
				if f == '~' || indexByte(t[r:e], '`') < 0 {
					s.inFence, s.fenceChar, s.fenceLen = true, f, run
					// a fence of markdown hands over markdown to be rendered (pasted into a page or a chat):
					// its links and images are still judged
					s.fenceMarkdown = isMarkdownInfo(t[r:e])
					return true
				}
			}
		}
	}
	if c != '`' || s.inFence || p < s.codeUntil {
		return true
	}
	if p > 0 && t[p-1] == '`' {
		return true // inside a backtick run already handled
	}
	r := p
	for r < len(t) && t[r] == '`' {
		r++
	}
	if r >= len(t) && s.more(p, r) {
		return false
	}
	run := r - p
	// find a closing run of exactly the same length
	for q := r; q < len(t); {
		if q-p > s.k.maxConstruct {
			return true
		}
		if t[q] == '`' {
			e := q
			for e < len(t) && t[e] == '`' {
				e++
			}
			if e >= len(t) && s.more(p, e) {
				return false
			}
			if e-q == run {
				s.codeUntil = e
				return true
			}
			q = e
			continue
		}
		if t[q] == '\n' && q+1 < len(t) && t[q+1] == '\n' {
			return true // a blank line ends the paragraph: literal backticks
		}
		q++
	}
	return !s.more(p, len(t)) // unclosed so far
}

func isMarkdownInfo(info []byte) bool {
	i := 0
	for i < len(info) && isSpace(info[i]) {
		i++
	}
	j := i
	for j < len(info) && !isSpace(info[j]) {
		j++
	}
	w := strings.ToLower(string(info[i:j]))
	return w == "markdown" || w == "md"
}

func onlySpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func hasPrefixFold(t []byte, p int, lowerPrefix string) (match, partial bool) {
	for i := 0; i < len(lowerPrefix); i++ {
		if p+i >= len(t) {
			return false, true
		}
		if lower(t[p+i]) != lowerPrefix[i] {
			return false, false
		}
	}
	return true, false
}
