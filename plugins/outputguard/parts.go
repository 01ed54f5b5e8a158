package outputguard

import (
	"hash/crc32"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/llm"
)

// Responses streams repeat the text of each content part alone (output_text.done, content_part.done) and the
// parts of an item again (output_item.done, response.completed). The deltas of a choice are judged on their join
// (one check.Stream), so a link split across two parts is found there, but neither part's snapshot holds it
// whole. A part's snapshot is therefore rewritten with the edits its pieces got: the snapshot text is the part's
// streamed input (same length and CRC-32), and each released piece that changed replaces its own bytes in it.
// The snapshot event leaves the queue after every delta event before it, so its part is complete by then.

// partIndex finds the part of a delta.
type partIndex struct {
	m       map[[2]int]*partText
	lastKey [2]int // the part of the last text delta
	last    *partText
}

// partText is the record of one content part (output item, content_index) of a Responses stream.
type partText struct {
	n     int    // bytes streamed
	crc   uint32 // CRC-32 of them
	edits []pieceEdit
}

// pieceEdit: the piece at off (len n) of the part was released as text.
type pieceEdit struct {
	off, n int
	text   string
}

// partSnap is a snapshot of part pt at loc in its event, rewritten when the event is sent.
type partSnap struct {
	pt   *partText
	loc  llm.Loc
	text string
}

func strBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// addPiece records a text delta of a Responses stream and returns its part and offset in it.
func (p *streamProc) addPiece(d *llm.Delta) (*partText, int) {
	if p.format != llm.FormatOpenAIResponses || d.Kind != llm.DeltaText {
		return nil, 0
	}
	x := &p.parts
	k := [2]int{d.Index, d.Part}
	pt := x.last
	if pt == nil || x.lastKey != k {
		if x.m == nil {
			x.m = map[[2]int]*partText{}
		}
		if pt = x.m[k]; pt == nil {
			pt = &partText{}
			x.m[k] = pt
		}
		x.lastKey, x.last = k, pt
	}
	off := pt.n
	pt.n += len(d.Text)
	pt.crc = crc32.Update(pt.crc, crc32.IEEETable, strBytes(d.Text))
	return pt, off
}

// snapPart returns the part whose streamed input a text snapshot repeats, or nil.
func (p *streamProc) snapPart(d *llm.Delta) *partText {
	if d.ToolName != "" {
		return nil
	}
	pt := p.parts.m[[2]int{d.Index, d.Part}]
	if pt == nil || pt.n != len(d.Text) || pt.crc != crc32.ChecksumIEEE(strBytes(d.Text)) {
		return nil
	}
	return pt
}

// render is the snapshot text with the released pieces' edits applied: what the part's deltas carried.
func (s partSnap) render() string {
	if len(s.pt.edits) == 0 {
		return s.text
	}
	out := make([]byte, 0, len(s.text))
	q := 0
	for _, e := range s.pt.edits {
		if e.off < q || e.off+e.n > len(s.text) {
			continue // (not reached: pieces are released in order, inside the part)
		}
		out = append(append(out, s.text[q:e.off]...), e.text...)
		q = e.off + e.n
	}
	return string(append(out, s.text[q:]...))
}

// withSnaps returns the event's edits with its part snapshots rendered.
func (q *qEvent) withSnaps() []llm.Edit {
	if len(q.snaps) == 0 {
		return q.edits
	}
	edits := q.edits
	for _, s := range q.snaps {
		if t := s.render(); t != s.text {
			edits = append(edits, llm.Edit{Loc: s.loc, Text: t})
		}
	}
	return edits
}
