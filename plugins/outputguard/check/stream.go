package check

import (
	"bytes"
	"unsafe"
)

// Stream scans text that arrives in pieces (the text deltas of a streamed response, one Stream per choice /
// output segment). Pieces are held back until every position they cover is decided, then returned rewritten
// (redacted findings replaced). Hold-back is bounded by Config.MaxConstruct plus the longest canary/phrase.
//
// Findings are reported once, with offsets into the concatenated text, exactly as Checker.Scan reports them for
// the whole text.
type Stream struct {
	s       scanner
	redact  func(Finding) bool
	pending []Piece // pushed, not yet released (a lent piece's Text is "": it is read from the text at release)
	head    int     // pending[head:] (and starts) are the pieces not released yet
	starts  []int   // start offset of each pending piece
	rel     int     // text offset up to which pieces were released
	reds    []Finding
	all     int     // findings returned so far
	ready   []Piece // collect's result, reused: a streamed answer is hundreds of pushes
	lend    func(n int) []byte
	runs    int // scanner runs (pushes that could decide something), for tests
}

// minStreamBuf is the first buffer a stream with UseBuffers asks for.
const minStreamBuf = 16 << 10

// Piece is one chunk of stream text with the caller's identifier (e.g. the index of the SSE event it came in).
// A piece no redaction touches is released with the very string that was pushed (no copy), or, pushed with
// PushLent, with its bytes in the stream's text. Rewritten says the released Text differs from the pushed one.
type Piece struct {
	ID        int
	Text      string
	Rewritten bool
}

// NewStream starts a stream. redact decides which findings are replaced in the released text (nil: none).
func (k *Checker) NewStream(redact func(Finding) bool) *Stream {
	st := &Stream{redact: redact}
	st.s.init(k)
	return st
}

// UseBuffers makes the stream collect its text in buffers from lend (an empty buffer with room for n bytes)
// instead of growing its own with append: when the text outgrows its buffer it moves into one from lend twice as
// large, and the one it leaves is not touched again. The stream never frees or reuses them; the lender keeps
// them (the filter lends pooled buffers that go back to a pool when the exchange ends: TinyGo's collector keeps
// a large freed block pinned, see sdk/filter/pool.go). Call it before the first Push.
func (st *Stream) UseBuffers(lend func(n int) []byte) { st.lend = lend }

// Push appends a piece and scans as far as can be decided. It returns the new findings and the pieces that can
// be released now, in order, rewritten. Both slices are valid until the next Push or Close (the stream reuses
// them).
func (st *Stream) Push(id int, text string) (ready []Piece, found []Finding) {
	st.hold(Piece{ID: id, Text: text})
	old := len(st.s.text)
	st.s.text = st.appendText(st.s.text, text)
	return st.scan(old)
}

// PushLent is Push for text the caller may overwrite once PushLent returns (an event in a decoder's buffer): the
// stream keeps its own copy only (the text it collects anyway), and an untouched piece is released as a string
// over that copy, valid as long as Text's string is.
func (st *Stream) PushLent(id int, text string) (ready []Piece, found []Finding) {
	// (hold's and appendText's usual cases written out: in wasm a call costs more than their work)
	if st.head == 0 || len(st.pending) < cap(st.pending) {
		st.pending = append(st.pending, Piece{ID: id})
		st.starts = append(st.starts, len(st.s.text))
	} else {
		st.hold(Piece{ID: id})
	}
	old := len(st.s.text)
	if old+len(text) <= cap(st.s.text) {
		st.s.text = append(st.s.text, text...)
	} else {
		st.s.text = st.appendText(st.s.text, text)
	}
	return st.scan(old)
}

// scan runs the scanner over the text pushed since the last run (old bytes before), unless it cannot decide
// anything new: most pushes come while the scanner waits at the start of a line for its end (secrets are looked
// for per line, secretWin), and a piece without a line end that leaves the line under secretWindow bytes changes
// nothing then but how far secretWin has searched for the line end (updated here as secretWin would). Such a
// push releases nothing and finds nothing (the safe point stays), so it costs one byte search, not a run and a
// collect (in wasm a call per stage and piece costs more than the search).
func (st *Stream) scan(old int) (ready []Piece, found []Finding) {
	s := &st.s
	if s.stage == stageSecret && s.stage2 == 1 && !s.atEOF && s.pos == s.secretNext && s.pos >= s.secretUntil &&
		s.pos < old && s.nlFrom == s.pos && s.nlTo == old &&
		len(s.text) < s.pos+secretWindow && len(s.text)-s.pos < s.k.maxConstruct &&
		bytes.IndexByte(s.text[old:], '\n') < 0 {
		s.nlTo = len(s.text)
		return st.ready[:0], nil
	}
	st.runs++
	s.run(false)
	return st.collect()
}

// hold appends a pending piece starting at the end of the text. The pending lists stay at the start of their
// arrays: released pieces are dropped from the front when there is no room left at the back (slicing them off
// would shrink the capacity until every push reallocates; copying on every release costs a copy per push).
func (st *Stream) hold(p Piece) {
	if st.head > 0 && len(st.pending) == cap(st.pending) {
		k := copy(st.pending, st.pending[st.head:])
		clear(st.pending[k:]) // release the texts
		st.pending = st.pending[:k]
		st.starts = st.starts[:copy(st.starts, st.starts[st.head:])]
		st.head = 0
	}
	st.pending = append(st.pending, p)
	st.starts = append(st.starts, len(st.s.text))
}

// Close scans to the end (no more text) and releases everything.
func (st *Stream) Close() (ready []Piece, found []Finding) {
	st.s.run(true)
	return st.collect()
}

// Held is the number of text bytes pushed but not released yet.
func (st *Stream) Held() int { return len(st.s.text) - st.rel }

// appendText appends text to buf, moving into a buffer from st.lend (twice the size) when buf is full.
func (st *Stream) appendText(buf []byte, text string) []byte {
	n := len(buf) + len(text)
	if st.lend == nil || n <= cap(buf) {
		return append(buf, text...)
	}
	nb := st.lend(max(n, 2*cap(buf), minStreamBuf))
	if cap(nb) < n { // a lender that does not keep its word: grow as without one
		return append(buf, text...)
	}
	return append(append(nb[:0], buf...), text...)
}

// Text returns the whole text pushed so far (as received, not rewritten), without a copy: the string shares the
// stream's buffer, whose bytes up to here never change (later pushes append after them or move to a new buffer),
// so it stays valid as long as the stream's buffers do (with UseBuffers: as long as the lender keeps them). JSON
// Schema validation at the end of a stream and the rune offsets of findings use it.
func (st *Stream) Text() string { return unsafe.String(unsafe.SliceData(st.s.text), len(st.s.text)) }

// Findings returns every finding so far.
func (st *Stream) Findings() []Finding { return st.s.out }

func (st *Stream) collect() (ready []Piece, found []Finding) {
	found = st.s.out[st.all:len(st.s.out):len(st.s.out)]
	ready = st.ready[:0]
	st.all = len(st.s.out)
	for _, f := range found {
		if st.redact != nil && f.CanRedact && st.redact(f) {
			st.addRed(f)
		}
	}
	safe := st.s.pos
	if st.s.atEOF {
		safe = len(st.s.text)
	}
	n := st.head
	for n < len(st.pending) {
		end := len(st.s.text)
		if n+1 < len(st.starts) {
			end = st.starts[n+1]
		}
		if end > safe {
			break
		}
		p := st.pending[n]
		st.pending[n].Text = "" // release the text
		start := st.starts[n]
		if p.Text == "" { // lent (or empty: the same "")
			p.Text = unsafe.String(unsafe.SliceData(st.s.text[start:]), end-start)
		}
		if len(st.reds) > 0 {
			if t, ok := st.rewrite(start, end); ok && t != string(st.s.text[start:end]) {
				p.Text, p.Rewritten = t, true
			}
		} // else: untouched, the piece as pushed (the same bytes: no copy)
		ready = append(ready, p)
		st.rel = end
		n++
	}
	st.ready = ready
	st.head = n
	if n == len(st.pending) {
		st.pending, st.starts, st.head = st.pending[:0], st.starts[:0], 0
	}
	// drop redactions entirely released
	d := 0
	for d < len(st.reds) && st.reds[d].End <= st.rel {
		d++
	}
	st.reds = st.reds[d:]
	return ready, found
}

// addRed inserts a redaction keeping the list sorted by start; a redaction overlapping an earlier-starting one is
// dropped (as Apply does).
func (st *Stream) addRed(f Finding) {
	i := len(st.reds)
	for i > 0 && st.reds[i-1].Start > f.Start {
		i--
	}
	if i > 0 && st.reds[i-1].End > f.Start {
		return
	}
	if i < len(st.reds) && f.End > st.reds[i].Start {
		// f starts earlier and overlaps a later redaction that may already be partly released: keep the
		// earlier-starting one only if nothing of the later one was released yet
		if st.reds[i].Start < st.rel {
			return
		}
		st.reds = append(st.reds[:i], st.reds[i+1:]...)
	}
	st.reds = append(st.reds, Finding{})
	copy(st.reds[i+1:], st.reds[i:])
	st.reds[i] = f
}

// rewrite renders text[a:b) with the redactions applied: a redaction's replacement goes where it starts; the
// bytes it covers are dropped in whichever piece they fall. ok is false when no redaction touches the range (the
// text is unchanged).
func (st *Stream) rewrite(a, b int) (text string, ok bool) {
	t := st.s.text
	touched := false
	for _, r := range st.reds {
		if r.Start < b && r.End > a {
			touched = true
			break
		}
	}
	if !touched {
		return "", false
	}
	out := make([]byte, 0, b-a)
	q := a
	for _, r := range st.reds {
		if r.End <= q || r.Start >= b {
			continue
		}
		if r.Start >= q {
			out = append(out, t[q:r.Start]...)
			out = append(out, r.Replace...)
		}
		q = min(r.End, b)
	}
	if q < b {
		out = append(out, t[q:b]...)
	}
	return string(out), true
}
