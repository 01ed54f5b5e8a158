package sse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unsafe"
)

// DefaultMaxPending is the bound on held-back bytes (one incomplete event) used when Decoder.MaxPending is 0.
const DefaultMaxPending = 1 << 20

// ErrTooLarge is returned (wrapped) by Decoder.Err when an incomplete event grows beyond the pending limit.
var ErrTooLarge = errors.New("sse: event exceeds the pending limit")

// Event is one server-sent event: the block of lines up to and including a terminating blank line.
type Event struct {
	Event string // the "event:" field ("" when absent)
	Data  string // the "data:" lines joined with "\n" ("" when absent)
	ID    string // the "id:" field ("" when absent)
	// Raw holds the exact bytes of this event as received, through its terminating blank line (comments and
	// unknown fields included). Concatenating the Raw of every event (plus Decoder.Pending) reproduces the input.
	Raw []byte
	// HasData reports whether the event had at least one "data" field; "data:" alone gives HasData with Data "".
	HasData bool
}

// Clone returns a copy of ev that shares no memory with it (for keeping an event Next lent).
func (ev Event) Clone() Event {
	raw := append([]byte(nil), ev.Raw...)
	return Event{Event: strings.Clone(ev.Event), Data: strings.Clone(ev.Data), ID: strings.Clone(ev.ID), Raw: raw, HasData: ev.HasData}
}

// Decoder is an incremental SSE decoder. The zero value is ready to use (with DefaultMaxPending).
// Input split at any byte gives the same events, with the same Raw, as the input in one piece.
//
// It has two ways in: Feed returns the events a chunk completes as copies the caller may keep; Append then
// Next lends them one at a time without allocating (their bytes live in the decoder until the next Append).
type Decoder struct {
	// MaxPending bounds the bytes held back for an incomplete event; 0 means DefaultMaxPending.
	MaxPending int

	buf      []byte // from the first byte of the first event not returned yet
	start    int    // offset in buf of the current event's first byte
	pos      int    // offset in buf of the first line not processed yet
	scanFrom int    // offset in buf from which the line at pos is searched for its end (bytes before have none)
	started  bool   // the BOM check at the start of the stream is done
	err      error

	// fields of the current event, as offsets in buf
	ev, id rng
	hasEv  bool
	hasID  bool
	lines  []rng // data lines of the events since the last compaction; the current event's from line0
	line0  int
	joined []byte   // Next: the joined data of multi-line events since the last Append
	done   []pendEv // Feed: scratch
}

type rng struct{ s, e int }

// pendEv is a dispatched event, as offsets in buf.
type pendEv struct {
	start, end            int
	ev, id                rng
	dataFrom, dataTo      int // its data lines: lines[dataFrom:dataTo]
	hasEv, hasID, hasData bool
}

// Err returns ErrTooLarge (wrapped) once an incomplete event exceeded MaxPending. After that Feed returns nil and
// keeps nothing more: the caller should pass Pending() and all later input through unparsed, or fail the stream.
func (d *Decoder) Err() error { return d.err }

// Pending returns the bytes held back: the start of an event whose terminating blank line has not arrived (after
// Append, also the complete events Next has not returned yet). The slice aliases the decoder's buffer and is valid
// until the next call.
func (d *Decoder) Pending() []byte { return d.buf[d.start:] }

// Reset makes the decoder ready for a new stream, keeping MaxPending and its buffer capacity.
func (d *Decoder) Reset() {
	d.buf = d.buf[:0]
	d.start, d.pos, d.scanFrom, d.started, d.err = 0, 0, 0, false, nil
	d.lines, d.line0 = d.lines[:0], 0
	d.joined = d.joined[:0]
	d.resetFields()
}

func (d *Decoder) resetFields() {
	d.ev, d.id = rng{}, rng{}
	d.hasEv, d.hasID = false, false
	d.line0 = len(d.lines)
}

func (d *Decoder) limit() int {
	if d.MaxPending > 0 {
		return d.MaxPending
	}
	return DefaultMaxPending
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// compact drops the bytes of the events already returned, keeping the current one at the start of buf.
func (d *Decoder) compact() {
	s := d.start
	if s > 0 {
		n := copy(d.buf, d.buf[s:])
		d.buf = d.buf[:n]
		d.start, d.pos, d.scanFrom = 0, d.pos-s, d.scanFrom-s
		if d.hasEv {
			d.ev = rng{d.ev.s - s, d.ev.e - s}
		}
		if d.hasID {
			d.id = rng{d.id.s - s, d.id.e - s}
		}
		if n == 0 && cap(d.buf) > 64<<10 {
			d.buf = nil // do not keep a huge buffer after one huge event
		}
	}
	// the current event's data lines move to the front
	k := copy(d.lines, d.lines[d.line0:])
	d.lines = d.lines[:k]
	for i := range d.lines {
		d.lines[i] = rng{d.lines[i].s - s, d.lines[i].e - s}
	}
	d.line0 = 0
}

// add appends p after the held bytes and does the BOM check; false: wait for more input.
func (d *Decoder) add(p []byte) bool {
	d.compact()
	d.buf = append(d.buf, p...)
	if !d.started {
		// A UTF-8 byte order mark at the very start of the stream is not part of the first field name.
		n := min(len(d.buf), 3)
		if bytes.Equal(d.buf[:n], bom[:n]) {
			if n < 3 {
				return false // wait for the rest of a possible BOM
			}
			d.pos, d.scanFrom = 3, 3
		}
		d.started = true
	}
	return true
}

func (d *Decoder) checkLimit() {
	if n := len(d.buf) - d.start; n > d.limit() {
		d.err = fmt.Errorf("%w: %d bytes held back, limit %d", ErrTooLarge, n, d.limit())
	}
}

// Feed decodes p and returns the events it completed, in order. Incomplete input is held back (see Pending) and
// completed by later calls. The returned events do not alias p or the decoder; their Data, Event and ID are
// strings over their Raw bytes (one copy per call for all of them), so Raw must not be modified.
func (d *Decoder) Feed(p []byte) []Event {
	if d.err != nil {
		return nil
	}
	if !d.add(p) {
		return nil
	}
	d.done = d.done[:0]
	for {
		pe, ok := d.next(false)
		if !ok {
			break
		}
		d.done = append(d.done, pe)
	}
	out := d.own(d.done)
	d.checkLimit()
	return out
}

// own copies dispatched events out of buf: one copy of their region backs every Raw and every single-line
// Data (a string over the same bytes: Raw must not be modified).
func (d *Decoder) own(done []pendEv) []Event {
	if len(done) == 0 {
		return nil
	}
	base, end := done[0].start, done[len(done)-1].end
	raw := make([]byte, end-base)
	copy(raw, d.buf[base:end])
	str := unsafe.String(unsafe.SliceData(raw), len(raw))
	out := make([]Event, len(done))
	for i, p := range done {
		ev := Event{Raw: raw[p.start-base : p.end-base : p.end-base], HasData: p.hasData}
		if p.hasEv {
			ev.Event = str[p.ev.s-base : p.ev.e-base]
		}
		if p.hasID {
			ev.ID = str[p.id.s-base : p.id.e-base]
		}
		switch n := p.dataTo - p.dataFrom; {
		case n == 1:
			r := d.lines[p.dataFrom]
			ev.Data = str[r.s-base : r.e-base]
		case n > 1:
			ev.Data = string(d.join(nil, p))
		}
		out[i] = ev
	}
	return out
}

// join appends the data lines of p joined with "\n".
func (d *Decoder) join(dst []byte, p pendEv) []byte {
	for i, r := range d.lines[p.dataFrom:p.dataTo] {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, d.buf[r.s:r.e]...)
	}
	return dst
}

// Append adds p to the held input (copied) for Next. It invalidates the events Next returned before.
func (d *Decoder) Append(p []byte) {
	if d.err != nil {
		return
	}
	d.joined = d.joined[:0]
	if !d.add(p) {
		d.started = false // still waiting for a possible BOM
	}
}

// Next returns the next complete event of the input given to Append, or ok false when none is complete (then
// check Err). The event is lent: its Raw, Data, Event and ID are the decoder's memory, valid until the next
// Append, Feed, Flush or Reset (Clone it to keep it). In steady state Next allocates nothing.
func (d *Decoder) Next() (Event, bool) {
	if d.err != nil || !d.started {
		return Event{}, false
	}
	p, ok := d.next(false)
	if !ok {
		d.checkLimit()
		return Event{}, false
	}
	ev := Event{Raw: d.buf[p.start:p.end:p.end], HasData: p.hasData}
	if p.hasEv {
		ev.Event = d.str(p.ev)
	}
	if p.hasID {
		ev.ID = d.str(p.id)
	}
	switch n := p.dataTo - p.dataFrom; {
	case n == 1:
		ev.Data = d.str(d.lines[p.dataFrom])
	case n > 1:
		s := len(d.joined)
		d.joined = d.join(d.joined, p)
		j := d.joined[s:]
		ev.Data = unsafe.String(unsafe.SliceData(j), len(j))
	}
	return ev, true
}

// str is the bytes of r in buf as a string without copying (lent: valid until buf is compacted or reused).
func (d *Decoder) str(r rng) string {
	if r.e <= r.s {
		return ""
	}
	return unsafe.String(&d.buf[r.s], r.e-r.s)
}

// Flush ends the stream: it returns the held-back bytes as a final event, parsed as though a blank line
// followed them (a browser would drop such an unterminated event; a proxy must still forward its bytes), and
// resets the decoder. ok is false when nothing was held back. After ErrTooLarge the event has only Raw (the held
// bytes, unparsed). With Append/Next, call Next until it returns false first: Flush returns the remainder as one
// event. The event does not alias the decoder.
func (d *Decoder) Flush() (ev Event, ok bool) {
	if len(d.buf)-d.start == 0 {
		d.Reset()
		return Event{}, false
	}
	if d.err != nil {
		// Over the limit: hand back the held bytes unparsed so a proxy can still forward them.
		ev = Event{Raw: append([]byte(nil), d.buf[d.start:]...)}
		d.Reset()
		return ev, true
	}
	d.started = true // a lone partial BOM: keep it as raw bytes
	d.done = d.done[:0]
	for {
		p, ok := d.next(true)
		if !ok {
			break
		}
		d.done = append(d.done, p)
	}
	evs := d.own(d.done)
	if len(evs) > 1 {
		// the remainder held complete events (Append without Next): one event of all its bytes, as documented
		raw := make([]byte, 0, len(d.buf))
		for _, e := range evs {
			raw = append(raw, e.Raw...)
		}
		evs[len(evs)-1].Raw = raw
		evs = evs[len(evs)-1:]
	}
	d.Reset()
	if len(evs) == 0 {
		return Event{}, false
	}
	return evs[0], true
}

// lineEnd returns the offset in b of the first '\n' or '\r' (-1: none), eight bytes at a time.
func lineEnd(b []byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; len(b)-i >= 8; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		x, y := w^(lo*'\n'), w^(lo*'\r')
		if m := ((x-lo)&^x | (y-lo)&^y) & hi; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

// next processes complete lines from pos until an event is dispatched. With eof, the end of the buffer ends
// the last line and then the event.
func (d *Decoder) next(eof bool) (pendEv, bool) {
	buf := d.buf
	for d.pos < len(buf) || (eof && d.start < len(buf)) {
		pos := d.pos
		var lineEnd_, next int
		if pos >= len(buf) {
			lineEnd_, next = pos, pos // eof after a last line end: dispatch what is held
			return d.dispatch(next), true
		}
		from := max(d.scanFrom, pos)
		j := lineEnd(buf[from:])
		switch {
		case j >= 0:
			lineEnd_ = from + j
			next = lineEnd_ + 1
			if buf[lineEnd_] == '\r' {
				if next < len(buf) {
					if buf[next] == '\n' {
						next++
					}
				} else if !eof {
					d.scanFrom = lineEnd_ // "\r" at the end: it may be the first half of "\r\n"
					return pendEv{}, false
				}
			}
		case eof:
			lineEnd_, next = len(buf), len(buf)
		default:
			d.scanFrom = len(buf)
			return pendEv{}, false
		}
		d.pos, d.scanFrom = next, next
		if lineEnd_ == pos {
			return d.dispatch(next), true
		}
		d.field(pos, lineEnd_)
		if next == len(buf) && eof {
			return d.dispatch(next), true
		}
	}
	return pendEv{}, false
}

// dispatch ends the current event at end (offset in buf).
func (d *Decoder) dispatch(end int) pendEv {
	p := pendEv{start: d.start, end: end, ev: d.ev, id: d.id, hasEv: d.hasEv, hasID: d.hasID,
		dataFrom: d.line0, dataTo: len(d.lines), hasData: len(d.lines) > d.line0}
	d.start = end
	d.resetFields()
	return p
}

// field records one non-empty line buf[s:e].
func (d *Decoder) field(s, e int) {
	buf := d.buf
	line := buf[s:e]
	if line[0] == ':' {
		return // a comment (kept in Raw only)
	}
	name := line
	vs := e
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		name = line[:c]
		vs = s + c + 1
		if vs < e && buf[vs] == ' ' {
			vs++
		}
	}
	switch string(name) {
	case "data":
		d.lines = append(d.lines, rng{vs, e})
	case "event":
		d.ev, d.hasEv = rng{vs, e}, true
	case "id":
		if bytes.IndexByte(buf[vs:e], 0) < 0 {
			d.id, d.hasID = rng{vs, e}, true
		}
	}
}

// Encode returns the canonical encoding of an event: "event: X", "id: X", one "data: " line per line of Data
// (Data split at "\r\n", "\r" and "\n"), then a blank line, all with "\n" line ends. Comments are not kept. Use it
// for events a filter changed; re-emit ev.Raw for unchanged ones. Line breaks inside Event or ID would end the
// field early, so they are replaced by spaces.
func Encode(ev Event) []byte {
	n := len(ev.Data) + 8 + 2
	if ev.Event != "" {
		n += len(ev.Event) + 8
	}
	if ev.ID != "" {
		n += len(ev.ID) + 5
	}
	out := make([]byte, 0, n)
	if ev.Event != "" {
		out = append(out, "event: "...)
		out = appendOneLine(out, ev.Event)
		out = append(out, '\n')
	}
	if ev.ID != "" {
		out = append(out, "id: "...)
		out = appendOneLine(out, ev.ID)
		out = append(out, '\n')
	}
	if ev.HasData || ev.Data != "" || (ev.Event == "" && ev.ID == "") {
		data := ev.Data
		for {
			i := strings.IndexAny(data, "\r\n")
			out = append(out, "data: "...)
			if i < 0 {
				out = append(out, data...)
				out = append(out, '\n')
				break
			}
			out = append(out, data[:i]...)
			out = append(out, '\n')
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			data = data[i+1:]
		}
	}
	return append(out, '\n')
}

func appendOneLine(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		out = append(out, c)
	}
	return out
}
