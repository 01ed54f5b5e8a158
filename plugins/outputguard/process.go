package outputguard

import (
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/wasmguard/wasmguard/plugins/outputguard/check"
	"github.com/wasmguard/wasmguard/sdk/filter"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/sse"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// This file holds the response processing without host calls (filter.go feeds it), so it is testable natively.

const filterName = "outputguard"

// Reason codes (stable).
const (
	reasonExfil          = "output_exfiltration_link"
	reasonMarkup         = "output_unsafe_markup"
	reasonSecret         = "output_secret_leak"
	reasonLeak           = "output_prompt_leak"
	reasonSchema         = "output_json_schema_violation"
	reasonNotJSON        = "output_not_json"
	reasonTooLarge       = telemetry.ReasonResponseBodyTooLarge    // shared on_error codes (sdk/telemetry)
	reasonUnparseable    = telemetry.ReasonResponseBodyUnparseable // …
	reasonBadEncoding    = telemetry.ReasonUnsupportedEncoding     // compressed event streams
	reasonHoldTimeout    = telemetry.ReasonResponseHoldTimeout     // hold_headers on a host that never delivers the body
	blockedMessage       = "the response was blocked by the gateway's output policy"
	blockedTextForClient = "[The response was blocked by the gateway's output policy (reason: "
)

func reasonOf(c check.Check) string {
	switch c {
	case check.CheckExfil:
		return reasonExfil
	case check.CheckMarkup:
		return reasonMarkup
	case check.CheckSecret:
		return reasonSecret
	case check.CheckPromptLeak:
		return reasonLeak
	}
	return reasonSchema
}

// verdict accumulates what was found in one response and what to do about it.
type verdict struct {
	action   string // strongest action: block > redact > annotate > "" (nothing)
	reason   string // reason code of the finding that set action
	score    float64
	findings []telemetry.Finding
	signals  []string
	schema   []string // JSON Schema violations (for the log count only)
}

func actionRank(a string) int {
	switch a {
	case actionBlock:
		return 3
	case actionRedact:
		return 2
	case actionAnnotate:
		return 1
	}
	return 0
}

func (v *verdict) raise(action, reason string, score float64) {
	if actionRank(action) > actionRank(v.action) {
		v.action, v.reason = action, reason
	}
	if score > v.score {
		v.score = score
	}
	for _, s := range v.signals {
		if s == reason {
			return
		}
	}
	v.signals = append(v.signals, reason)
}

// effectiveAction is the action a finding gets: redact falls back to block for findings without a span to
// neutralise (leak phrasing).
func effectiveAction(k *check.Checker, f check.Finding) string {
	a := string(k.Action(f.Check))
	if a == actionRedact && !f.CanRedact {
		return actionBlock
	}
	return a
}

// add records findings of one segment (offsets are bytes into text; the log gets code points).
func (v *verdict) add(k *check.Checker, seg int, text string, fs []check.Finding) {
	for _, f := range fs {
		v.raise(effectiveAction(k, f), reasonOf(f.Check), f.Score)
		if len(v.findings) < 64 {
			v.findings = append(v.findings, telemetry.Finding{
				Type: string(f.Check) + "." + f.Type, Segment: seg,
				Start: runeOffset(text, f.Start), End: runeOffset(text, f.End), Score: min(f.Score, 1),
			})
		}
	}
}

func runeOffset(s string, b int) int {
	if b > len(s) {
		b = len(s)
	}
	return utf8.RuneCountInString(s[:b])
}

func (v *verdict) decision(rule, requestID string, monitor bool) telemetry.Decision {
	d := telemetry.Decision{Filter: filterName, Rule: rule, Action: v.action, Reason: v.reason, RequestID: requestID,
		Score: min(v.score, 1), Signals: v.signals, Findings: v.findings}
	if d.Action == "" {
		d.Action = "allow"
	}
	if monitor {
		d.Mode = "monitor"
	}
	if len(v.schema) > 0 {
		d.Attrs = append(d.Attrs, telemetry.Attr{Key: "schema_violations", Value: float64(len(v.schema))})
	}
	return d
}

// redactPolicy says which findings are neutralised in place.
func redactPolicy(k *check.Checker) func(check.Finding) bool {
	return func(f check.Finding) bool { return f.CanRedact && k.Action(f.Check) == check.ActionRedact }
}

// processJSON inspects a whole (decoded) non-streamed response. It returns the new body when it changed.
func processJSON(cfg *Config, k *check.Checker, f llm.Format, body []byte, enforce bool) (out []byte, changed bool, v verdict, err error) {
	resp, err := llm.ParseResponse(f, body)
	return processResponse(cfg, k, body, resp, err, enforce)
}

// processResponse is processJSON on body parsed (resp, err: the module's shared parse, Exchange.ParseResponse;
// resp is only read).
func processResponse(cfg *Config, k *check.Checker, body []byte, resp *llm.Response, err error, enforce bool) (out []byte, changed bool, v verdict, _ error) {
	if err != nil {
		return nil, false, v, err
	}
	var edits []llm.Edit
	redact := redactPolicy(k)
	for _, s := range resp.Segments {
		if !k.Enabled() || s.Text == "" {
			continue
		}
		fs := k.Scan(s.Text)
		if len(fs) == 0 {
			continue
		}
		v.add(k, s.Index, s.Text, fs)
		if nt := check.Apply(s.Text, fs, redact); nt != s.Text {
			edits = append(edits, llm.Edit{Loc: s.Loc, Text: nt})
		}
	}
	if cfg.Schema != nil {
		text := firstChoiceText(resp)
		viol, verr := cfg.Schema.ValidateText(text)
		if verr != nil {
			viol = []string{"/: " + verr.Error()}
		}
		if len(viol) > 0 {
			v.schema = viol
			reason := reasonSchema
			if verr != nil {
				reason = reasonNotJSON
			}
			v.raise(cfg.SchemaAction, reason, 1)
		}
	}
	if !enforce {
		return nil, false, v, nil
	}
	if v.action == actionBlock {
		// headers already went downstream: keep the provider's shape and replace the model's output by a notice
		edits = edits[:0]
		for _, s := range resp.Segments {
			t := ""
			if s.Provenance == llm.ProvAssistant {
				t = blockedTextForClient + v.reason + ")]"
			}
			edits = append(edits, llm.Edit{Loc: s.Loc, Text: t})
		}
	}
	if len(edits) == 0 {
		return nil, false, v, nil
	}
	return llm.ApplyEdits(body, edits), true, v, nil
}

// firstChoiceText is the assistant text of the first choice/candidate (what JSON mode returns).
func firstChoiceText(r *llm.Response) string {
	out := ""
	first := -1
	for _, s := range r.Segments {
		if s.Provenance != llm.ProvAssistant {
			continue
		}
		if first < 0 {
			first = s.Message
		}
		if s.Message == first {
			out += s.Text
		}
	}
	return out
}

// streamProc rewrites one SSE (or NDJSON: Ollama) response stream event by event.
type streamProc struct {
	cfg       *Config
	k         *check.Checker
	format    llm.Format
	enforce   bool
	requestID string

	nd       bool                // NDJSON framing (application/x-ndjson): one event per line
	dec      filter.EventDecoder // sse.Decoder or filter.NDJSONDecoder
	sd       *sse.Decoder        // dec when it is SSE: its events are taken lent (Append / Next)
	arenas   [2]arena            // the bytes of queued events kept past their chunk (keepQueued)
	arenaAt  int                 // the arena keepQueued appends to
	sp       *llm.StreamParser
	deltas   []llm.Delta // scratch for the deltas of one event
	chans    map[chanKey]*channel
	lastKey  chanKey  // the channel of the last text delta
	lastChan *channel // …
	order    []*channel
	parts    partIndex // Responses: text per (output item, content part), parts.go
	v        verdict

	// The per-event bookkeeping allocates nothing in steady state (a streamed answer is hundreds of events, and
	// an allocation costs far more in wasm than the work it holds): queued events are recycled through free,
	// the queue and the piece table are windows of arrays that are compacted in place, and the bytes sent
	// downstream are assembled in out, reused from one body chunk to the next.
	queue     []*qEvent  // events not sent yet, in order: qbuf[qHead:]
	qbuf      []*qEvent  // queue's array
	qHead     int        // where queue starts in qbuf
	free      []*qEvent  // sent events, for reuse
	pieces    []pieceRef // the text pieces pushed and not released yet: pieces[i] is piece pieceBase+i
	pieceBase int
	nextID    int
	out       []byte // drain's output, reused: valid until the next feed

	ended      bool   // the stream was ended with an error event; everything after is dropped
	held       []byte // buffer_streams: output held until the end
	errText    string // the terminal error event
	errSent    bool
	total      int64 // body bytes seen
	bypass     bool  // over max_body_bytes with on_error allow: the rest passes unchecked
	over       bool  // max_body_bytes was exceeded
	overLogged bool
}

type chanKey struct {
	choice, index int
	tool          bool
}

type channel struct {
	st  *check.Stream
	seg int
}

type qEvent struct {
	ev      sse.Event
	lent    bool // ev is the decoder's memory (this chunk's); false once kept in an arena or owned
	arena   int  // 1 + the index of the arena holding ev's bytes, or 0
	pending int
	edits   []llm.Edit
	snaps   []partSnap // Responses part snapshots, rendered when the event is sent (parts.go)
	hasText bool
}

type pieceRef struct {
	ev   *qEvent // nil: released
	loc  llm.Loc
	n    int       // its length
	part *partText // Responses: the content part of the piece, and its offset there
	off  int
}

func newStreamProc(cfg *Config, k *check.Checker, f llm.Format, enforce bool, requestID string, ndjson bool) *streamProc {
	if ndjson && f == llm.FormatUnknown {
		f = llm.FormatOllama // the only provider streaming NDJSON
	}
	p := &streamProc{cfg: cfg, k: k, format: f, enforce: enforce, requestID: requestID, nd: ndjson,
		dec: filter.NewEventDecoder(ndjson, 0),
		sp:  llm.NewStreamParser(f), chans: map[chanKey]*channel{}}
	p.sd, _ = p.dec.(*sse.Decoder)
	return p
}

// arena holds the bytes of queued events past the chunk they came in: events leave the queue in order, so the
// older of two arenas empties first and is reused (no allocation in steady state; buffers from filter.Lend).
type arena struct {
	buf  []byte
	live int // queued events whose bytes are here
}

// keepQueued copies the events still queued and lent by the decoder into an arena (called when a chunk is done,
// before the decoder's buffer is reused).
func (p *streamProc) keepQueued() {
	for _, q := range p.queue {
		if q.lent {
			p.keep(q)
		}
	}
}

// keep moves q's event into an arena: Raw, and Data, Event and ID (substrings of Raw, or else copied after it).
func (p *streamProc) keep(q *qEvent) {
	ev := &q.ev
	need := len(ev.Raw)
	for _, s := range [...]string{ev.Data, ev.Event, ev.ID} {
		if _, in := within(ev.Raw, s); !in {
			need += len(s)
		}
	}
	a := &p.arenas[p.arenaAt]
	if len(a.buf)+need > cap(a.buf) {
		if o := &p.arenas[1-p.arenaAt]; o.live == 0 {
			p.arenaAt = 1 - p.arenaAt // the other arena's events are all sent: reuse it
			a = o
			a.buf = a.buf[:0]
		}
		if len(a.buf)+need > cap(a.buf) {
			// (the events still in the old buffer keep it; a is reset only when none is left)
			a.buf = filter.Lend(max(2*cap(a.buf), need, 4<<10))
		}
	}
	start := len(a.buf)
	a.buf = append(a.buf, ev.Raw...)
	raw := a.buf[start:len(a.buf):len(a.buf)]
	str := func(s string) string {
		if s == "" {
			return ""
		}
		if off, in := within(ev.Raw, s); in {
			return unsafe.String(&raw[off], len(s))
		}
		at := len(a.buf)
		a.buf = append(a.buf, s...)
		return unsafe.String(&a.buf[at], len(s))
	}
	ev.Data, ev.Event, ev.ID = str(ev.Data), str(ev.Event), str(ev.ID)
	ev.Raw = raw
	a.live++
	q.arena = 1 + p.arenaAt
	q.lent = false
}

// within reports whether s lies in b's bytes, and where.
func within(b []byte, s string) (int, bool) {
	if len(s) == 0 || len(b) == 0 {
		return 0, false
	}
	off := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return int(off), off <= uintptr(len(b)-len(s)) && len(s) <= len(b)
}

// unkeep: q's event left the queue.
func (p *streamProc) unkeep(q *qEvent) {
	if q.arena > 0 {
		p.arenas[q.arena-1].live--
		q.arena = 0
	}
}

// newEvent appends ev to the queue, in a recycled qEvent when there is one.
func (p *streamProc) newEvent(ev sse.Event) *qEvent {
	var q *qEvent
	if n := len(p.free); n > 0 {
		q = p.free[n-1]
		p.free = p.free[:n-1]
		*q = qEvent{ev: ev, edits: q.edits[:0], snaps: q.snaps[:0]}
	} else {
		q = &qEvent{ev: ev}
	}
	if p.qHead+len(p.queue) == len(p.qbuf) {
		// no room after the queue: move it to the front of its array, or into one twice as large
		if n := len(p.queue); n > len(p.qbuf)/2 || len(p.qbuf) == 0 {
			nb := make([]*qEvent, max(16, 2*len(p.qbuf)))
			copy(nb, p.queue)
			p.qbuf = nb
		} else {
			copy(p.qbuf, p.queue)
			clear(p.qbuf[n:])
		}
		p.qHead = 0
		p.queue = p.qbuf[:len(p.queue)]
	}
	p.queue = p.qbuf[p.qHead : p.qHead+len(p.queue)+1]
	p.queue[len(p.queue)-1] = q
	return q
}

// sent drops the first n events of the queue (sent downstream) and recycles them.
func (p *streamProc) sent(n int) {
	for i, q := range p.queue[:n] {
		if q.arena > 0 {
			p.arenas[q.arena-1].live--
			q.arena = 0
		}
		if len(q.edits) > 0 || len(q.snaps) > 0 {
			clear(q.edits)
			clear(q.snaps)
		}
		p.free = append(p.free, q) // (its event is overwritten when it is reused)
		p.queue[i] = nil
	}
	p.qHead += n
	p.queue = p.queue[n:]
	if len(p.queue) == 0 {
		p.qHead = 0
		p.queue = p.qbuf[:0]
	}
}

// dropQueue empties the queue without recycling its events (pieces may still refer to them).
func (p *streamProc) dropQueue() {
	for _, q := range p.queue {
		p.unkeep(q)
	}
	clear(p.qbuf)
	p.qHead = 0
	p.queue = p.qbuf[:0]
}

// addPieceRef records the next piece (id p.nextID) and returns its id.
func (p *streamProc) addPieceRef(r pieceRef) int {
	id := p.nextID
	p.nextID++
	if len(p.pieces) == cap(p.pieces) && p.pieceBase < id {
		// drop the released pieces at the front
		n := 0
		for n < len(p.pieces) && p.pieces[n].ev == nil {
			n++
		}
		if n > 0 {
			k := copy(p.pieces, p.pieces[n:])
			clear(p.pieces[k:])
			p.pieces = p.pieces[:k]
			p.pieceBase += n
		}
	}
	if len(p.pieces) == 0 {
		p.pieceBase = id
	}
	p.pieces = append(p.pieces, r)
	return id
}

// takePiece returns the piece id and marks it released (ok false: unknown or released already).
func (p *streamProc) takePiece(id int) (pieceRef, bool) {
	i := id - p.pieceBase
	if i < 0 || i >= len(p.pieces) || p.pieces[i].ev == nil {
		return pieceRef{}, false
	}
	r := p.pieces[i]
	p.pieces[i] = pieceRef{}
	if i == len(p.pieces)-1 {
		// the newest piece released: trim every released piece at the end, and all when none is left
		j := i
		for j > 0 && p.pieces[j-1].ev == nil {
			j--
		}
		p.pieces = p.pieces[:j]
	}
	return r, true
}

// feed processes a body chunk and returns the bytes to send downstream now, valid until the next feed (the
// buffer is reused).
func (p *streamProc) feed(chunk []byte, eos bool) []byte {
	if p.bypass {
		return chunk
	}
	p.total += int64(len(chunk))
	if p.total > p.cfg.MaxBodyBytes && !p.ended {
		// the inspected text is held in memory: past max_body_bytes take the on_error path
		p.over = true
		if p.cfg.FailOpen() || !p.enforce {
			// release everything held so far (redactions still apply to it) and stop inspecting
			p.bypass = true
			for _, c := range p.order {
				ready, found := c.st.Close()
				p.release(c, ready, found)
			}
			out := p.drainAll()
			out = append(out, p.dec.Pending()...)
			p.bypass = true
			return p.bufferedOut(append(out, chunk...), true)
		}
		p.fail(reasonTooLarge)
		return p.bufferedOut(p.drain(eos), true)
	}
	if !p.ended {
		if p.sd != nil {
			// SSE: the events are lent by the decoder (no copy, no allocation); the ones still queued when this
			// chunk is done move into the arenas (drain, keepQueued)
			p.sd.Append(chunk)
			for !p.ended {
				ev, ok := p.sd.Next()
				if !ok {
					break
				}
				p.event(ev, true)
			}
		} else {
			for _, ev := range p.dec.Feed(chunk) {
				p.event(ev, false)
				if p.ended {
					break
				}
			}
		}
		if err := p.dec.Err(); err != nil && !p.ended {
			p.fail(reasonUnparseable)
		}
	}
	if eos && !p.ended {
		if ev, ok := p.dec.Flush(); ok {
			p.event(ev, false) // (Flush's event does not alias the decoder)
		}
		if !p.ended {
			p.finish()
		}
	}
	return p.bufferedOut(p.drain(eos), eos)
}

// bufferedOut applies buffer_streams: output is held until the end (flush), and a blocked buffered stream sends
// the terminal error only.
func (p *streamProc) bufferedOut(out []byte, flush bool) []byte {
	if !(p.cfg.BufferStreams && p.enforce) {
		return out
	}
	p.held = filter.AppendLent(p.held, out) // the whole output: pooled in TinyGo builds, as check.Stream's text
	if !flush {
		return nil
	}
	out, p.held = p.held, nil
	if p.ended {
		out = []byte(p.errText)
	}
	return out
}

// drainAll returns every queued event regardless of pending pieces (used when inspection stops).
func (p *streamProc) drainAll() []byte {
	var out []byte
	for _, q := range p.queue {
		ev := q.ev
		if edits := q.withSnaps(); len(edits) > 0 {
			ev = filter.RewriteStreamEvent(ev, edits, p.nd)
		}
		out = append(out, ev.Raw...)
	}
	p.dropQueue()
	return out
}

// event processes one event. lent: ev is the decoder's memory, valid until the next chunk is given to it.
func (p *streamProc) event(ev sse.Event, lent bool) {
	var q *qEvent
	if n := len(p.free); n > 0 && p.qHead+len(p.queue) < len(p.qbuf) {
		// newEvent's usual case written out (a recycled event, room in the queue's array)
		q = p.free[n-1]
		p.free = p.free[:n-1]
		*q = qEvent{ev: ev, edits: q.edits[:0], snaps: q.snaps[:0]}
		p.queue = p.qbuf[p.qHead : p.qHead+len(p.queue)+1]
		p.queue[len(p.queue)-1] = q
	} else {
		q = p.newEvent(ev)
	}
	q.lent = lent
	if !ev.HasData {
		return
	}
	if p.format == llm.FormatUnknown {
		// a path sdk/llm does not know (a custom route): recognise the provider from the first data event
		if p.format = sniffStream(ev); p.format == llm.FormatUnknown {
			return
		}
		p.sp = llm.NewStreamParser(p.format)
	}
	deltas, err := p.sp.ParseAppend(p.deltas[:0], ev) // one slice reused event after event
	p.deltas = deltas[:0]
	if err != nil {
		return // an event we cannot read is forwarded unchanged
	}
	for _, d := range deltas {
		switch d.Kind {
		case llm.DeltaText, llm.DeltaToolArgs:
			if d.Text == "" {
				continue // (with every text check off the channel still collects the text for the JSON Schema)
			}
			// the text of one choice is one channel whatever block / part / item it comes in: a renderer shows
			// the blocks joined, so a link split across two text blocks is judged on the join (check.Stream holds
			// back at most MaxConstruct bytes across the boundary); each tool call's arguments stay apart
			key := chanKey{d.Choice, 0, false}
			if d.Kind == llm.DeltaToolArgs {
				key = chanKey{d.Choice, d.Index, true}
			}
			c := p.lastChan
			if c == nil || key != p.lastKey {
				c = p.chans[key] // (most deltas are the same channel's as the previous one: no map lookup)
			}
			if c == nil {
				var redact func(check.Finding) bool
				if p.enforce {
					redact = redactPolicy(p.k)
				}
				c = &channel{st: p.k.NewStream(redact), seg: len(p.order)}
				// the channel's whole text is kept until the end of the stream (the JSON Schema, and checks that
				// look back): in TinyGo builds it grows in pooled buffers the exchange gives back at its end
				// (sdk/filter.Lend; an append-grown 1 MiB text left to TinyGo's collector stayed pinned: 140 MiB
				// after 20 streamed 1 MiB answers)
				c.st.UseBuffers(filter.Lend)
				p.chans[key] = c
				p.order = append(p.order, c)
			}
			p.lastKey, p.lastChan = key, c
			// (fast paths written out here: a call per delta costs more than the work in wasm)
			ref := pieceRef{ev: q, loc: d.Loc, n: len(d.Text)}
			if p.format == llm.FormatOpenAIResponses {
				ref.part, ref.off = p.addPiece(&d)
			}
			var id int
			if n := len(p.pieces); n > 0 && n < cap(p.pieces) {
				id = p.nextID
				p.nextID++
				p.pieces = append(p.pieces, ref)
			} else {
				id = p.addPieceRef(ref)
			}
			q.pending++
			q.hasText = true
			var ready []check.Piece
			var found []check.Finding
			if lent {
				ready, found = c.st.PushLent(id, d.Text)
			} else {
				ready, found = c.st.Push(id, d.Text)
			}
			if len(ready) > 0 || len(found) > 0 {
				p.release(c, ready, found)
			}
			if p.ended {
				return
			}
		case llm.DeltaSnapshot:
			// text repeated whole (Responses *.done, response.completed): a part's text as its deltas were
			// rewritten (parts.go), anything else neutralised the same way, statelessly
			if p.enforce && p.k.Enabled() && d.Text != "" {
				// (both kept past the event: copies of a lent event's text)
				if pt := p.snapPart(&d); pt != nil {
					q.snaps = append(q.snaps, partSnap{pt: pt, loc: d.Loc, text: strings.Clone(d.Text)})
				} else if nt := check.Apply(d.Text, p.k.Scan(d.Text), redactPolicy(p.k)); nt != d.Text {
					q.edits = append(q.edits, llm.Edit{Loc: d.Loc, Text: strings.Clone(nt)})
				}
			}
		}
	}
}

func (p *streamProc) release(c *channel, ready []check.Piece, found []check.Finding) {
	if len(found) > 0 {
		text := c.st.Text()
		p.v.add(p.k, c.seg, text, found)
		if p.enforce && !p.bypass && p.v.action == actionBlock {
			p.fail(p.v.reason)
			return
		}
	}
	for _, r := range ready {
		var ref pieceRef
		var ok bool
		if i := r.ID - p.pieceBase; i >= 0 && i < len(p.pieces)-1 && p.pieces[i].ev != nil {
			ref = p.pieces[i] // (takePiece's usual case, written out)
			p.pieces[i] = pieceRef{}
		} else if ref, ok = p.takePiece(r.ID); !ok {
			continue
		}
		if r.Rewritten {
			ref.ev.edits = append(ref.ev.edits, llm.Edit{Loc: ref.loc, Text: r.Text})
			if ref.part != nil {
				ref.part.edits = append(ref.part.edits, pieceEdit{off: ref.off, n: ref.n, text: r.Text})
			}
		}
		ref.ev.pending--
	}
}

// finish closes the text channels at the end of the stream and validates the JSON Schema.
func (p *streamProc) finish() {
	for _, c := range p.order {
		ready, found := c.st.Close()
		p.release(c, ready, found)
		if p.ended {
			return
		}
	}
	if p.cfg.Schema == nil {
		return
	}
	// the first choice's text is one channel (chanKey): no copy of it
	text := ""
	if c := p.chans[chanKey{0, 0, false}]; c != nil {
		text = c.st.Text()
	}
	viol, err := p.cfg.Schema.ValidateText(text)
	if err != nil {
		viol = []string{"/: " + err.Error()}
	}
	if len(viol) == 0 {
		return
	}
	p.v.schema = viol
	reason := reasonSchema
	if err != nil {
		reason = reasonNotJSON
	}
	p.v.raise(p.cfg.SchemaAction, reason, 1)
	if p.enforce && p.cfg.SchemaAction == actionBlock {
		// the text went out already (unless buffer_streams): drop the stream's tail (finish/usage/done events)
		// and end with the provider's error event
		last := -1
		for i, q := range p.queue {
			if q.hasText {
				last = i
			}
		}
		for _, q := range p.queue[last+1:] {
			p.unkeep(q)
		}
		clear(p.queue[last+1:])
		p.queue = p.queue[:last+1]
		p.fail(reason)
	}
}

// fail ends the stream: events not yet sent are dropped (except, at the end of a stream, the released text) and
// the provider's terminal error event follows.
func (p *streamProc) fail(reason string) {
	if p.ended {
		return
	}
	p.ended = true
	if p.v.action == "" {
		p.v.raise(actionBlock, reason, 1)
	}
	// keep only events fully released (everything held contains or follows the violation)
	keep := 0
	for keep < len(p.queue) && p.queue[keep].pending == 0 {
		keep++
	}
	for _, q := range p.queue[keep:] {
		p.unkeep(q)
	}
	clear(p.queue[keep:])
	p.queue = p.queue[:keep]
	p.errText = string(reply.StreamError(p.format, reason, blockedMessage, p.requestID))
}

// drain returns the bytes of the events at the head of the queue that are complete. They are valid until the
// next call (the caller hands them to the host, or copies them, at once).
func (p *streamProc) drain(eos bool) []byte {
	n, size := 0, 0
	for n < len(p.queue) && p.queue[n].pending == 0 {
		size += len(p.queue[n].ev.Raw)
		n++
	}
	out := p.out[:0]
	if n > 0 && cap(out) < size+size/8 {
		out = filter.Lend(size + size/8) // rewrites may change the length a little
	}
	for _, q := range p.queue[:n] {
		if len(q.edits) == 0 && len(q.snaps) == 0 {
			out = append(out, q.ev.Raw...) // (most events: no call)
			continue
		}
		ev := q.ev
		if edits := q.withSnaps(); len(edits) > 0 {
			ev = filter.RewriteStreamEvent(ev, edits, p.nd)
		}
		out = append(out, ev.Raw...)
	}
	p.sent(n)
	if p.ended {
		p.dropQueue()
		if !p.errSent {
			out = append(out, p.errText...)
			p.errSent = true
		}
	}
	if eos && len(p.queue) > 0 {
		// should not happen (everything is released at the end); never lose bytes
		for _, q := range p.queue {
			out = append(out, q.ev.Raw...)
		}
		p.dropQueue()
	}
	if eos && !p.ended {
		out = append(out, p.dec.Pending()...)
	}
	p.keepQueued()
	p.out = out[:0]
	if len(out) == 0 {
		return nil
	}
	return out
}

// sniffStream recognises the provider of an SSE stream from one event.
func sniffStream(ev sse.Event) llm.Format {
	switch {
	case strings.HasPrefix(ev.Event, "response."):
		return llm.FormatOpenAIResponses
	case ev.Event == "message_start" || ev.Event == "content_block_start" || ev.Event == "content_block_delta" || ev.Event == "ping":
		return llm.FormatAnthropic
	case strings.Contains(ev.Data, `"candidates"`):
		return llm.FormatGemini
	case strings.Contains(ev.Data, `"chat.completion.chunk"`) || strings.Contains(ev.Data, `"choices"`):
		return llm.FormatOpenAIChat
	case strings.Contains(ev.Data, `"type":"response.`):
		return llm.FormatOpenAIResponses
	case strings.Contains(ev.Data, `"type":"message_start"`) || strings.Contains(ev.Data, `"type":"content_block_`):
		return llm.FormatAnthropic
	}
	return llm.FormatUnknown
}
