package filter

import (
	"bytes"
	"fmt"
	"strings"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/sse"
)

// lineDecoder frames newline-delimited JSON: complete lines become events; a partial line is held back
// (bounded by max, default sse.DefaultMaxPending). Empty lines are forwarded as events with no data.
// Like sse.Decoder, the events of one feed share one copy of their bytes (every Raw, and every Data as a
// string over them), and do not alias the input or the decoder; each byte is searched for a line end once.
type lineDecoder struct {
	buf     []byte
	max     int
	err     error
	ends    []int // scratch: offsets just past each complete line in buf
	scanned int   // bytes searched for line ends (tests check that each is searched once)
}

func (d *lineDecoder) feed(p []byte) []sse.Event {
	if d.err != nil {
		return nil
	}
	// the held-back partial line has no line end: search only the new bytes
	from := len(d.buf)
	d.buf = append(d.buf, p...)
	d.scanned += len(p)
	ends := d.ends[:0]
	for i := from; ; {
		j := bytes.IndexByte(d.buf[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		ends = append(ends, i)
	}
	d.ends = ends
	var evs []sse.Event
	if len(ends) > 0 {
		n := ends[len(ends)-1]
		raw := make([]byte, n)
		copy(raw, d.buf[:n])
		str := unsafe.String(unsafe.SliceData(raw), n) // Data over Raw's bytes (one copy), as sse.Decoder.Feed
		evs = make([]sse.Event, len(ends))
		s := 0
		for k, e := range ends {
			evs[k] = lineEvent(raw[s:e:e], str[s:e])
			s = e
		}
		m := copy(d.buf, d.buf[n:])
		d.buf = d.buf[:m]
		if m == 0 && cap(d.buf) > 64<<10 {
			d.buf = nil // do not keep a huge buffer after one huge line
		}
	}
	max := d.max
	if max == 0 {
		max = sse.DefaultMaxPending
	}
	if len(d.buf) > max {
		d.err = fmt.Errorf("%w: %d bytes held back, limit %d", sse.ErrTooLarge, len(d.buf), max)
	}
	return evs
}

// lineEvent is the event for one line: raw with its line end, line the same bytes as a string.
func lineEvent(raw []byte, line string) sse.Event {
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	ev := sse.Event{Raw: raw}
	if strings.TrimSpace(line) != "" {
		ev.Data = line
		ev.HasData = true
	}
	return ev
}

func (d *lineDecoder) flush() (sse.Event, bool) {
	if d.err != nil || len(d.buf) == 0 {
		d.reset()
		return sse.Event{}, false
	}
	raw := make([]byte, len(d.buf))
	copy(raw, d.buf)
	d.reset()
	return lineEvent(raw, string(raw)), true
}

func (d *lineDecoder) reset() { d.buf = d.buf[:0]; d.err = nil }
