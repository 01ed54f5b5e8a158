package sse

// refDecoder is the decoder as it was before the lending API (Append/Next), kept as the reference of
// FuzzSSEDecoder.

import (
	"bytes"
	"fmt"
	"strings"
)

// refDecoder is an incremental SSE decoder. The zero value is ready to use (with DefaultMaxPending).
// Input split at any byte gives the same events, with the same Raw, as the input in one piece.
type refDecoder struct {
	// MaxPending bounds the bytes held back for an incomplete event; 0 means DefaultMaxPending.
	MaxPending int

	buf     []byte // bytes of the current incomplete event, from its first byte
	pos     int    // offset in buf of the first line not processed yet
	skip    int    // bytes at the start of buf to ignore for parsing (a UTF-8 BOM)
	started bool   // the BOM check at the start of the stream is done
	err     error

	// fields of the current event, as offsets in buf
	ev, id refRng
	hasEv  bool
	hasID  bool
	data   []refRng
	done   []refPend // scratch for scan
}

type refRng struct{ s, e int }

// refPend is an event dispatched during one scan, before its strings are made.
type refPend struct {
	start                 int
	ev, id, data          refRng
	hasEv, hasID, hasData bool
}

// Err returns ErrTooLarge (wrapped) once an incomplete event exceeded MaxPending. After that Feed returns nil and
// keeps nothing more: the caller should pass Pending() and all later input through unparsed, or fail the stream.
func (d *refDecoder) Err() error { return d.err }

// Pending returns the bytes held back: the start of an event whose terminating blank line has not arrived. The
// slice aliases the decoder's buffer and is valid until the next call.
func (d *refDecoder) Pending() []byte { return d.buf }

// Reset makes the decoder ready for a new stream, keeping MaxPending and its buffer capacity.
func (d *refDecoder) Reset() {
	d.buf = d.buf[:0]
	d.pos, d.skip, d.started, d.err = 0, 0, false, nil
	d.resetFields()
}

func (d *refDecoder) resetFields() {
	d.ev, d.id = refRng{}, refRng{}
	d.hasEv, d.hasID = false, false
	d.data = d.data[:0]
}

func (d *refDecoder) limit() int {
	if d.MaxPending > 0 {
		return d.MaxPending
	}
	return DefaultMaxPending
}

// Feed decodes p and returns the events it completed, in order. Incomplete input is held back (see Pending) and
// completed by later calls. The returned events do not alias p or the decoder.
func (d *refDecoder) Feed(p []byte) []Event {
	if d.err != nil {
		return nil
	}
	d.buf = append(d.buf, p...)
	if !d.started {
		// A UTF-8 byte order mark at the very start of the stream is not part of the first field name.
		n := len(d.buf)
		if n > 3 {
			n = 3
		}
		if bytes.Equal(d.buf[:n], bom[:n]) {
			if n < 3 {
				return nil // wait for the rest of a possible BOM
			}
			d.skip, d.pos = 3, 3
		}
		d.started = true
	}
	return d.scan(false)
}

// Flush ends the stream: it returns the held-back bytes as a final event, parsed as though a blank line
// followed them (a browser would drop such an unterminated event; a proxy must still forward its bytes), and
// resets the decoder. ok is false when nothing was held back. After ErrTooLarge the event has only Raw (the held
// bytes, unparsed).
func (d *refDecoder) Flush() (ev Event, ok bool) {
	if len(d.buf) == 0 {
		d.Reset()
		return Event{}, false
	}
	if d.err != nil {
		// Over the limit: hand back the held bytes unparsed so a proxy can still forward them.
		ev = Event{Raw: append([]byte(nil), d.buf...)}
		d.Reset()
		return ev, true
	}
	if !d.started {
		d.started = true // a lone partial BOM: keep it as raw bytes
	}
	evs := d.scan(true)
	if len(evs) > 0 {
		ev = evs[0]
	}
	d.Reset()
	return ev, len(evs) > 0
}

// scan processes complete lines in buf from pos, dispatching events at blank lines. With eof, the end of the
// buffer ends the last line and then the event.
func (d *refDecoder) scan(eof bool) []Event {
	buf := d.buf
	var (
		out     []Event
		evStart int
		pos     = d.pos
		joined  []string
	)
	d.done = d.done[:0]
	dispatch := func(end int) {
		p := refPend{start: evStart, hasEv: d.hasEv, hasID: d.hasID, hasData: len(d.data) > 0,
			ev: refRng{d.ev.s + evStart, d.ev.e + evStart}, id: refRng{d.id.s + evStart, d.id.e + evStart}}
		switch len(d.data) {
		case 0:
		case 1:
			p.data = refRng{d.data[0].s + evStart, d.data[0].e + evStart}
		default:
			var sb strings.Builder
			n := 0
			for _, r := range d.data {
				n += r.e - r.s + 1
			}
			sb.Grow(n)
			for i, r := range d.data {
				if i > 0 {
					sb.WriteByte('\n')
				}
				sb.Write(buf[evStart+r.s : evStart+r.e])
			}
			p.data = refRng{-1, len(joined)}
			joined = append(joined, sb.String())
		}
		d.done = append(d.done, p)
		d.resetFields()
		evStart = end
	}
	for pos < len(buf) {
		rest := buf[pos:]
		nl := bytes.IndexByte(rest, '\n')
		var lineEnd, next int
		if nl >= 0 {
			if cr := bytes.IndexByte(rest[:nl], '\r'); cr >= 0 {
				lineEnd = pos + cr
				next = lineEnd + 1
				if cr+1 == nl {
					next++
				}
			} else {
				lineEnd = pos + nl
				next = lineEnd + 1
			}
		} else if cr := bytes.IndexByte(rest, '\r'); cr >= 0 {
			if pos+cr+1 == len(buf) && !eof {
				break // "\r" at the end: it may be the first half of "\r\n"
			}
			lineEnd = pos + cr
			next = lineEnd + 1
		} else if eof {
			lineEnd, next = len(buf), len(buf)
		} else {
			break
		}
		if lineEnd == pos {
			dispatch(next)
		} else {
			d.field(buf, pos-evStart, lineEnd-evStart, evStart)
		}
		pos = next
	}
	if eof && evStart < len(buf) {
		dispatch(len(buf))
		pos = len(buf)
	}
	if len(d.done) > 0 {
		// One copy of the completed region backs every Raw, one string backs every single-line Data.
		raw := make([]byte, evStart)
		copy(raw, buf[:evStart])
		str := string(raw)
		out = make([]Event, len(d.done))
		for i, p := range d.done {
			e := evStart
			if i+1 < len(d.done) {
				e = d.done[i+1].start
			}
			ev := Event{Raw: raw[p.start:e:e], HasData: p.hasData}
			if p.hasEv {
				ev.Event = str[p.ev.s:p.ev.e]
			}
			if p.hasID {
				ev.ID = str[p.id.s:p.id.e]
			}
			if p.hasData {
				if p.data.s == -1 {
					ev.Data = joined[p.data.e]
				} else {
					ev.Data = str[p.data.s:p.data.e]
				}
			}
			out[i] = ev
		}
		// Keep the incomplete tail at the start of buf; field offsets are already relative to it.
		n := copy(buf, buf[evStart:])
		d.buf = buf[:n]
		pos -= evStart
		d.skip = 0
		if n == 0 && cap(d.buf) > 64<<10 {
			d.buf = nil // do not keep a huge buffer after one huge event
		}
	}
	d.pos = pos
	if len(d.buf) > d.limit() {
		d.err = fmt.Errorf("%w: %d bytes held back, limit %d", ErrTooLarge, len(d.buf), d.limit())
	}
	return out
}

// field records one non-empty line; s and e are offsets relative to the current event start (base in buf).
func (d *refDecoder) field(buf []byte, s, e, base int) {
	if base == 0 && s < d.skip {
		s = d.skip // the BOM at the start of the stream
	}
	line := buf[base+s : base+e]
	if len(line) == 0 || line[0] == ':' {
		return // a comment (kept in Raw only)
	}
	name := line
	vs := e
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		name = line[:c]
		vs = s + c + 1
		if vs < e && buf[base+vs] == ' ' {
			vs++
		}
	}
	switch string(name) {
	case "data":
		d.data = append(d.data, refRng{vs, e})
	case "event":
		d.ev, d.hasEv = refRng{vs, e}, true
	case "id":
		if bytes.IndexByte(buf[base+vs:base+e], 0) < 0 {
			d.id, d.hasID = refRng{vs, e}, true
		}
	}
}
