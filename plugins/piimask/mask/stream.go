package mask

import (
	"github.com/wasmguard/wasmguard/sdk/pii"
	"github.com/wasmguard/wasmguard/sdk/placeholder"
	"github.com/wasmguard/wasmguard/sdk/render"
	"slices"
	"strings"
)

// Streaming.
//
// Streamer masks text that arrives in pieces (the deltas of a streamed response) so that the output is the
// same for every way of splitting the input and nothing of an entity leaks before it is complete. It emits text
// only up to a "boundary": a position right after whitespace that follows a lower-case word (as in "call me ")
// — no built-in entity contains such a sequence (phone extensions "ext 12" are excepted explicitly, and a PEM
// block holds every boundary until its END line). A boundary is used only when lookahead bytes follow it, so a
// detector's right context (phone labels after the number) is always seen. The scan window keeps leftContext
// bytes of already emitted text for left context (labels, e-mail local parts, "password =").
//
// Output is batched: a boundary is used only when at least minEmit (48) bytes precede it since the last
// emission. Hold-back is bounded: when no boundary appears for MaxHold bytes (code, base64, tables of numbers), the
// streamer emits up to the start of the last pii.MaxEntityLen bytes or the start of an entity crossing that
// point, whichever is earlier. Custom regex entities that contain "word " sequences may be split by a boundary.
//
// The scanner reads a text in its canonical view (sdk/pii: at/dot spellings, digit groups with unusual
// separators, ...) only when the text triggers it, and then everywhere, so text that comes later can change
// how earlier text reads. Until the emitted text has triggered it, the streamer emits only bytes on which the
// plain and the canonical reading of its window agree (pii.Scanner.Readings); once triggered, it reads every
// window canonically, as the whole text will be read. A stream of several parts (Boundary) is read as
// ApplyJoined reads the message: each part by its own content and the join by the join's, each with its own
// trigger state (a part that never triggers the view reads plainly even when the join reads canonically).
type Streamer struct {
	m       *Masker
	v       *Vault
	monitor bool

	buf  []byte // text from the anchor (a boundary at or before done-leftContext)
	done int    // bytes of buf already emitted
	base int    // stream offset of buf[0]
	ms   []pii.Match
	cs   []pii.Match // the canonical reading of the window while the stream has not triggered it
	// canonical: the emitted text triggered the scanner's canonical view (pii.Scanner.Triggers), so the whole
	// text reads canonically everywhere: every window is read that way from then on.
	canonical bool
	hinted    bool        // the last window read triggers the canonical view
	ts        []pii.Match // scratch of Triggers
	// ptrig (several parts): by part from the first not pruned, the part triggered the view by its own content
	// (ApplyJoined reads each part alone as Scan does); phinted: the last read of the last part, from lastFrom
	// in buf (-1: not read both ways), triggers it.
	ptrig    []bool
	phinted  bool
	lastFrom int
	// scratch of scanParts
	ps, xs, j0, j1 []pii.Match
	cutBuf         []int

	// parts: the stream may be the text of several blocks / parts of one message (Boundary), judged on their
	// join; marks are the stream offsets where parts after the first start (the first pruned of them counted
	// in pruned), outs the last output by part.
	marks  []int
	pruned int
	outs   []PartText
	starts []int

	// Findings lists the entities acted upon, with stream offsets (bytes since the first Write).
	Findings []Finding
	// Blocked is set when an entity with action block was seen.
	Blocked bool
}

const (
	// lookahead is the right context the detectors read past a value's end (pii.RightContext). With less, a
	// candidate whose verdict the text after it changes went out in clear (a prefixed token reported only once
	// a key follows on its line, FuzzStreamerParts a0d51e7d96aaae09).
	lookahead   = pii.RightContext
	leftContext = 160
	// minEmit batches output: each emission rescans the window, so emitting a few bytes at a time would
	// cost a rescan per LLM token.
	minEmit = 48
	// MaxHold is how much text the streamer holds back at most when no boundary appears.
	MaxHold = 1024
)

// NewStreamer returns a streamer that masks with m, records tokenized values in v and, in monitor mode, only
// records findings.
func NewStreamer(m *Masker, v *Vault, monitor bool) *Streamer {
	return &Streamer{m: m, v: v, monitor: monitor}
}

// Pending is the number of bytes held back.
func (s *Streamer) Pending() int { return len(s.buf) - s.done }

// Write adds p and returns the text that is now safe to emit (possibly empty).
func (s *Streamer) Write(p []byte) []byte {
	s.outs = s.outs[:0]
	s.buf = append(s.buf, p...)
	limit := len(s.buf) - lookahead
	if pem := s.openPEM(); pem >= 0 && pem < limit {
		limit = pem
	}
	k := -1
	for i := limit; i > s.done+minEmit; i-- {
		if isBoundary(s.buf, i) {
			k = i
			break
		}
	}
	mode := emitFinal
	if k < 0 {
		if len(s.buf)-s.done <= MaxHold {
			return nil
		}
		mode = emitForced
		k = len(s.buf) - pii.MaxEntityLen
		if pem := s.openPEM(); pem >= 0 && len(s.buf)-pem < pii.MaxPEMLen {
			if pem <= s.done {
				return nil
			}
			k = pem
		}
	}
	return s.emit(k, mode)
}

// Flush returns everything still held back, masked. Call it at the end of the stream.
func (s *Streamer) Flush() []byte {
	s.outs = s.outs[:0]
	return s.emit(len(s.buf), emitEnd)
}

// emit modes: emitFinal emits only what every reading of the whole text agrees on; emitForced (hold-back
// bound reached) reads canonically; emitEnd reads as the whole text reads.
const (
	emitFinal = iota
	emitForced
	emitEnd
)

// scan reads the window the way the whole text will read it. Until the stream has triggered the scanner's
// canonical view (in text already emitted), the whole text may read either plainly (no trigger ever comes) or
// canonically (one comes later, anywhere): only the bytes both readings agree on are final, so k is cut at the
// first finding where they differ (the hold-back stays bounded by MaxHold: past it, the canonical reading,
// which masks the values either one finds, is used). At the end the window is read as Scan reads it.
func (s *Streamer) scan(k, mode int) int {
	if len(s.marks) > 0 || s.pruned > 0 {
		return s.scanParts(k, mode)
	}
	switch {
	case s.canonical:
		s.ms = s.m.Scanner.ScanCanonical(s.buf, s.ms[:0])
	case mode == emitEnd:
		s.ms = s.m.Scanner.Scan(s.buf, s.ms[:0])
	default:
		s.ms, s.cs, s.hinted = s.m.Scanner.Readings(s.buf, s.ms[:0], s.cs[:0])
		if mode == emitForced {
			s.ms, s.cs = s.cs, s.ms
		} else if d := firstDifference(s.ms, s.cs, s.done); d < k {
			k = d
		}
	}
	return k
}

// How a text is read: canonically (it triggered the view), as Scan reads it (it is complete), or both ways
// (it may still trigger the view).
const (
	readCanon = iota
	readFinal
	readOpen
)

// read appends the reading(s) of t, shifted by off, to a (the plain or only one) and b (the canonical one, only
// when how is readOpen). hint reports whether t triggers the view (readFinal: Triggers; readOpen: Readings).
func (s *Streamer) read(t []byte, off, how int, a, b []pii.Match) (_, _ []pii.Match, hint bool) {
	ka, kb := len(a), len(b)
	switch how {
	case readCanon:
		a = s.m.Scanner.ScanCanonical(t, a)
	case readFinal:
		// Scan's own decision (Triggers) made visible: a complete part that triggers stays canonical when
		// its beginning has left the window
		s.ts, hint = s.m.Scanner.Triggers(t, s.ts)
		if hint {
			a = s.m.Scanner.ScanCanonical(t, a)
		} else {
			a = s.m.Scanner.ScanPlain(t, a)
		}
	default:
		a, b, hint = s.m.Scanner.Readings(t, a, b)
	}
	shift(a[ka:], off)
	shift(b[kb:], off)
	return a, b, hint
}

// scanParts is scan for a stream of several parts (Boundary). ApplyJoined reads each part by its own content
// (canonically only when the part triggers the view) and the join by the join's, and merges the two
// (pii.MergeJoined): the window's piece of each part and the window as the join are read that way, each with
// its own trigger state (ptrig by part, canonical for the join). A complete part is read as Scan reads it; the
// last part and the join, while the stream goes on, may read either way: the readings of every combination
// are compared as in scan.
func (s *Streamer) scanParts(k, mode int) int {
	end := mode == emitEnd
	s.hinted = false
	s.cutBuf = append(s.cuts(s.cutBuf[:0]), len(s.buf))
	cuts := s.cutBuf
	first := s.partOf(s.base)
	last := s.pruned + len(s.marks)
	for len(s.ptrig) <= last-s.pruned {
		s.ptrig = append(s.ptrig, false)
	}
	howPart := func(p int) int {
		switch {
		case s.ptrig[p-s.pruned]:
			return readCanon
		case p < last || end:
			return readFinal
		}
		return readOpen
	}
	howJoin := readOpen
	switch {
	case s.canonical:
		howJoin = readCanon
	case end:
		howJoin = readFinal
	}
	// per0, per1: the parts' readings with the last part read plainly / canonically
	per0, per1 := s.ps[:0], s.cs[:0]
	s.phinted = false
	s.lastFrom = -1
	from := 0
	for i, c := range cuts {
		p := first + i
		how := howPart(p)
		k0 := len(per0)
		var hint bool
		per0, per1, hint = s.read(s.buf[from:c], from, how, per0, per1)
		switch how {
		case readOpen:
			s.phinted, s.lastFrom = hint, from
		case readFinal:
			if hint {
				s.ptrig[p-s.pruned] = true // the complete part triggers: for good
			}
			fallthrough
		default:
			per1 = append(per1, per0[k0:]...)
		}
		from = c
	}
	s.ps, s.cs = per0, per1
	var j0, j1 []pii.Match
	if len(cuts) == 1 && howJoin == howPart(first) {
		// the window lies in one part, read as the join is read: the same findings
		j0, j1 = per0, per1
		if howJoin == readOpen {
			s.hinted = s.phinted
		}
	} else {
		var hint bool
		s.j0, s.j1, hint = s.read(s.buf, 0, howJoin, s.j0[:0], s.j1[:0])
		j0, j1 = s.j0, s.j1
		if howJoin == readOpen {
			s.hinted = hint
		} else {
			j1 = j0
		}
	}
	// the readings that may still differ (the last part's, the join's); where both ways agree, one is enough
	xs, ys := 1, 1
	if s.lastFrom >= 0 && !slices.Equal(per0, per1) {
		xs = 2
	}
	if howJoin == readOpen && !slices.Equal(j0, j1) {
		ys = 2
	}
	combo := func(dst []pii.Match, x, y int) []pii.Match {
		per, j := per0, j0
		if x == 1 {
			per = per1
		}
		if y == 1 {
			j = j1
		}
		return pii.MergeJoined(append(dst[:0], per...), j)
	}
	if mode == emitForced {
		s.ms = combo(s.ms, 1, 1)
		return k
	}
	s.ms = combo(s.ms, 0, 0)
	for x := 0; x < xs; x++ {
		for y := 0; y < ys; y++ {
			if x+y == 0 {
				continue
			}
			s.xs = combo(s.xs, x, y)
			if d := firstDifference(s.ms, s.xs, s.done); d < k {
				k = d
			}
		}
	}
	return k
}

// cuts appends the part boundaries inside the window (offsets in buf) to c.
func (s *Streamer) cuts(c []int) []int {
	for _, m := range s.marks {
		if k := m - s.base; k > 0 && k < len(s.buf) {
			c = append(c, k)
		}
	}
	return c
}

func shift(ms []pii.Match, by int) {
	for i := range ms {
		ms[i].Start += by
		ms[i].End += by
	}
}

// PartText is the output of one part.
type PartText struct {
	Part int
	Text []byte
}

// Boundary starts a new part at the current end of the input (the next block or part of the same message,
// judged on the join with the previous ones) and returns its stream offset.
func (s *Streamer) Boundary() int {
	off := s.base + len(s.buf)
	if len(s.marks) == 0 && s.pruned == 0 {
		s.ptrig = append(s.ptrig[:0], s.canonical) // the first part's state: the stream's so far
	}
	s.marks = append(s.marks, off)
	return off
}

// Emitted is the stream offset up to which the input has been emitted (a part whose successor starts at or
// before it is complete).
func (s *Streamer) Emitted() int { return s.base + s.done }

// Parts returns the output of the last Write or Flush by part, in order (a replacement belongs to the part
// where its value starts; the value's bytes in the following parts are gone). Valid until the next call.
func (s *Streamer) Parts() []PartText { return s.outs }

func (s *Streamer) partOf(off int) int {
	n := s.pruned
	for _, m := range s.marks {
		if m <= off {
			n++
		}
	}
	return n
}

// firstDifference returns where two readings (sorted findings) first differ from offset from on, or
// MaxInt when they agree.
func firstDifference(a, b []pii.Match, from int) int {
	i, j := 0, 0
	for {
		for i < len(a) && a[i].Start < from {
			i++
		}
		for j < len(b) && b[j].Start < from {
			j++
		}
		switch {
		case i == len(a) && j == len(b):
			return int(^uint(0) >> 1)
		case i == len(a):
			return b[j].Start
		case j == len(b):
			return a[i].Start
		case a[i] != b[j]:
			return min(a[i].Start, b[j].Start)
		}
		i++
		j++
	}
}

func (s *Streamer) emit(k, mode int) []byte {
	k = s.scan(k, mode)
	for _, m := range s.ms {
		if m.Start < k && m.End > k && m.Start >= s.done {
			k = m.Start
		}
	}
	if k <= s.done {
		return nil
	}
	if !s.canonical && mode != emitEnd && s.hinted {
		// does the text up to k (which ends at a boundary: no token runs past it) trigger the canonical view?
		// Then the whole text does: later windows read canonically (emitted bytes read the same both ways).
		// Only looked at when the window triggers it (a trigger at its end may still vanish as the token grows).
		s.ts, s.canonical = s.m.Scanner.Triggers(s.buf[:k], s.ts)
	}
	if s.lastFrom >= 0 && s.phinted && mode != emitEnd && k > s.lastFrom {
		// the same for the last part (several parts): its text up to k triggers the view
		s.ts, s.ptrig[len(s.ptrig)-1] = s.m.Scanner.Triggers(s.buf[s.lastFrom:k], s.ts)
	}
	out := make([]byte, 0, k-s.done+16)
	s.outs = s.outs[:0]
	starts := s.starts[:0] // output offset where each s.outs entry starts
	part := func(p int) {
		if n := len(s.outs); n == 0 || s.outs[n-1].Part != p {
			s.outs = append(s.outs, PartText{Part: p})
			starts = append(starts, len(out))
		}
	}
	// copy appends buf[from:to], cut at the part boundaries
	copyText := func(from, to int) {
		for from < to {
			end := to
			for _, m := range s.marks {
				if c := m - s.base; c > from && c < end {
					end = c
				}
			}
			part(s.partOf(s.base + from))
			out = append(out, s.buf[from:end]...)
			from = end
		}
	}
	last := s.done
	for _, m := range s.ms {
		if m.Start < s.done || m.End > k {
			continue
		}
		name := m.Name()
		a := s.m.Policy.ActionFor(name)
		s.Findings = append(s.Findings, Finding{Name: name, Action: a, Start: s.base + m.Start, End: s.base + m.End, Secret: m.Secret})
		if a == Block {
			s.Blocked = true
		}
		if s.monitor || a == Allow || a == Block {
			continue
		}
		copyText(last, m.Start)
		part(s.partOf(s.base + m.Start))
		out = s.m.replace(out, name, a, m.Secret, s.buf[m.Start:m.End], s.v)
		last = m.End
	}
	copyText(last, k)
	for i := range s.outs {
		end := len(out)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		s.outs[i].Text = out[starts[i]:end]
	}
	s.starts = starts[:0]
	s.done = k
	s.trim()
	return out
}

// trim drops text before a boundary that lies at least leftContext bytes before done.
func (s *Streamer) trim() {
	if s.done < leftContext+64 {
		return
	}
	cut := -1
	for i := s.done - leftContext; i > 0 && i > s.done-leftContext-128; i-- {
		if isBoundary(s.buf, i) {
			cut = i
			break
		}
	}
	if cut < 0 {
		if s.done < 4*leftContext+MaxHold {
			return
		}
		cut = s.done - leftContext // no boundary for a long time: keep memory bounded
	}
	n := copy(s.buf, s.buf[cut:])
	s.buf = s.buf[:n]
	s.done -= cut
	s.base += cut
	for len(s.marks) > 0 && s.marks[0] <= s.base {
		s.marks = s.marks[1:]
		s.pruned++
		if len(s.ptrig) > 1 {
			s.ptrig = s.ptrig[1:]
		}
	}
}

// openPEM returns the offset of a "-----BEGIN " with no "-----END " after it, or -1.
func (s *Streamer) openPEM() int {
	b := s.buf
	open := -1
	for i := 0; i+5 <= len(b); i++ {
		if b[i] != '-' || b[i+1] != '-' || b[i+2] != '-' || b[i+3] != '-' || b[i+4] != '-' {
			continue
		}
		if hasAt(b, i+5, "BEGIN ") {
			open = i
		} else if hasAt(b, i+5, "END ") {
			// closed only once the END line is complete
			e := i + 9
			for e < len(b) && (b[e] >= 'A' && b[e] <= 'Z' || b[e] == ' ') {
				e++
			}
			if hasAt(b, e, "-----") {
				open = -1
			}
		}
		for i+1 < len(b) && b[i+1] == '-' {
			i++
		}
	}
	return open
}

func hasAt(b []byte, i int, p string) bool { return i+len(p) <= len(b) && string(b[i:i+len(p)]) == p }

// isBoundary: b[k-1] is whitespace and b[k-2] ends a lower-case word of at least two letters (not "ext").
func isBoundary(b []byte, k int) bool {
	if k < 3 || k > len(b) {
		return false
	}
	c := b[k-1]
	if c != ' ' && c != '\n' && c != '\t' {
		return false
	}
	j := k - 2
	for j >= 0 && b[j] >= 'a' && b[j] <= 'z' {
		j--
	}
	w := k - 2 - j
	if w < 2 {
		return false
	}
	if j >= 0 && (b[j] >= 'A' && b[j] <= 'Z' || b[j] >= '0' && b[j] <= '9' || b[j] == '_' || b[j] == '-' || b[j] == '.' || b[j] == '/') {
		return false // part of a mixed token (aB3xy, key-abc, x.y)
	}
	if w == 3 && string(b[j+1:k-1]) == "ext" {
		return false
	}
	// an e-mail written with at/dot spellings spans blanks ("jane at example dot com", sdk/pii's canonical view):
	// no boundary right after such a spelling or right before one, so the whole form is scanned at once
	if word := string(b[j+1 : k-1]); word == "at" || word == "dot" {
		return false
	}
	return !spellingAt(b, k)
}

// spellingAt reports whether an at or dot spelling (any case; "@", ".", or one in brackets) starts at k.
func spellingAt(b []byte, k int) bool {
	// blanks before a spelling belong to its form in the scanner's view (sdk/pii asciiView: up to three)
	for n := 0; n < 3 && k < len(b) && b[k] == ' '; n++ {
		k++
	}
	if k >= len(b) {
		return false
	}
	switch b[k] {
	case '@', '.', '[', '(', '{', '<':
		return true
	}
	for _, w := range [...]string{"at", "dot"} {
		e := k + len(w)
		if e <= len(b) && strings.EqualFold(string(b[k:e]), w) && (e == len(b) || !isLetter(b[e])) {
			return true
		}
	}
	return false
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// Restorer replaces placeholders in streamed text, holding back at most MaxPlaceholderLen bytes (a possible
// placeholder split across pieces). It keeps up to render.LinkWindow bytes of the text already emitted as the
// context that tells whether a placeholder lies in a link (Vault.RestoreInLinks).
type Restorer struct {
	v    *Vault
	buf  []byte // context (emitted input) + pending input
	done int    // bytes of buf already emitted
	// Restored counts the placeholders replaced so far.
	Restored int
}

// NewRestorer returns a restorer over v.
func NewRestorer(v *Vault) *Restorer { return &Restorer{v: v} }

// Pending is the number of bytes held back.
func (r *Restorer) Pending() int { return len(r.buf) - r.done }

// Write adds p and returns the text that is safe to emit.
func (r *Restorer) Write(p []byte) []byte {
	r.buf = append(r.buf, p...)
	hold := len(r.buf)
	for i := len(r.buf) - 1; i >= r.done && len(r.buf)-i <= MaxPlaceholderLen+1; i-- {
		if r.buf[i] == '[' {
			if _, partial := placeholder.At(r.buf, i); partial {
				hold = i
			}
			break
		}
	}
	return r.emit(hold)
}

// Flush returns the held-back text (restored when it is a complete placeholder).
func (r *Restorer) Flush() []byte { return r.emit(len(r.buf)) }

func (r *Restorer) emit(to int) []byte {
	out, n := restoreRange(r.buf, r.done, to, r.v)
	if out == nil {
		out = append([]byte(nil), r.buf[r.done:to]...)
	}
	r.Restored += n
	r.done = to
	if r.done > 2*render.LinkWindow {
		cut := r.done - render.LinkWindow
		k := copy(r.buf, r.buf[cut:])
		r.buf = r.buf[:k]
		r.done -= cut
	}
	return out
}
