package piimask

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/wasmguard/wasmguard/plugins/piimask/mask"
	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/filter"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/sse"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

const filterName = "piimask"

// piimask's own reason codes; the on_error path uses the shared ones (telemetry.Reason*, filter.ReasonFor).
const (
	reasonMasked     = "pii_masked"
	reasonBlocked    = "pii_blocked"
	reasonClean      = "pii_none"
	reasonRestored   = "pii_restored"
	reasonKeptInLink = "pii_kept_in_link" // a placeholder in a link construct was not restored (restore_in_links)
	reasonRespMasked = "pii_masked_in_response"
)

// New returns the piimask stage (filter.Run wires it as dist/piimask.wasm; the combined module runs it after
// promptguard).
func New() filter.Stage { return &pluginContext{} }

func (*pluginContext) Name() string { return filterName }

type metrics struct {
	dec                            *filter.Decisions // requests_total{action,reason}, errors_total{reason}
	entities, restored, respMasked filter.Counter
}

type pluginContext struct {
	routed *config.Routed[Config]
	m      metrics
}

// Configure parses the configuration and defines the metrics.
func (p *pluginContext) Configure(raw []byte) error {
	r, err := parseConfig(raw)
	if err != nil {
		return err
	}
	p.routed = r
	m := filter.NewMetrics(filterName)
	p.m = metrics{
		dec:        m.Decisions(),
		entities:   m.Counter("entities_total"),
		restored:   m.Counter("restored_total"),
		respMasked: m.Counter("response_entities_total"),
	}
	return nil
}

func (p *pluginContext) NewHandler(x *filter.Exchange) filter.Handler {
	return &httpContext{p: p, x: x}
}

type httpContext struct {
	filter.BaseHandler
	p    *pluginContext
	x    *filter.Exchange
	cfg  *Config
	s    filter.Stream // request info (read in OnHttpRequestHeaders), format, rule, local reply
	skip bool

	body        filter.RequestBody
	reqEncoding string // the request's content-encoding (headers are unreadable after their callback)
	vault       mask.Vault

	// response
	resp         bool // process the response body
	sseResp      bool
	respEnc      string
	whole        filter.ResponseBody // whole body (JSON, or any compressed body)
	nd           bool                // the stream is NDJSON (Ollama): one event per line
	sniff        bool                // no JSON content type (text/plain, none): read as JSON when it is JSON
	refuse       bool                // a coding piimask cannot read under mask_responses and on_error deny
	refused      bool
	dec          filter.EventDecoder // sse.Decoder, or filter.NDJSONDecoder for NDJSON
	streamFailed int                 // streamOK, streamPass, streamDrop
	streamOut    []byte              // scratch for streamChunk's output, reused chunk after chunk (the host copies it)
	sout         []byte              // streamChunk's output being built
	queue        []*qEvent           // events held until a joined pipe's held-back text is decided (see pipe)
	head         int                 // where copies of already sent events go in the queue
	parser       *llm.StreamParser
	pipes        map[pipeKey]*pipe
	pipeOrder    []pipeKey
	restoredN    int
	respFinds    int
}

func (h *httpContext) OnRequestHeaders(endOfStream bool) filter.Action {
	h.s.Info = h.x.RequestInfo(h.p.routed.Default.ConsumerHeader, h.p.routed.UsesRoute())
	h.cfg, h.s.Rule = h.p.routed.Select(h.s.Info)
	h.vault.RestoreInLinks = h.cfg.RestoreInLinks
	if endOfStream {
		h.skip = true
		return filter.Continue
	}
	h.reqEncoding, _ = h.s.Info.Header("content-encoding")
	h.body.Limit = h.cfg.MaxBodyBytes
	_ = filter.DropRequestContentLength() // the body may change length
	if h.cfg.RestoreResponses || h.cfg.MaskResponses {
		// Responses are rewritten: ask only for codings sdk/body can undo and redo.
		_ = filter.RestrictAcceptEncoding(h.s.Info)
	}
	return filter.Continue
}

func (h *httpContext) OnRequestTrailers() filter.Action {
	if h.skip {
		return filter.Continue
	}
	raw, step, err := h.body.CollectAtTrailers() // a body that ended with trailers
	return h.request(raw, step, err)
}

func (h *httpContext) OnRequestBody(bodySize int, endOfStream bool) filter.Action {
	if h.skip {
		return filter.Continue
	}
	raw, step, err := h.body.Collect(bodySize, endOfStream)
	return h.request(raw, step, err)
}

func (h *httpContext) request(raw []byte, step filter.Step, err error) filter.Action {
	switch {
	case err != nil: // over max_body_bytes, unreadable (Kong spill), host errors
		return h.fail(filter.ReasonFor(err, false), err)
	case step == filter.StepMore:
		return filter.Pause
	case step == filter.StepSkip:
		return filter.Continue
	}
	plain := raw
	if h.reqEncoding != "" {
		// unsupported coding, corrupt data, decoded size over max_body_bytes
		if plain, err = h.x.Decode(h.reqEncoding, raw, h.cfg.MaxBodyBytes); err != nil {
			return h.fail(filter.ReasonFor(err, false), err)
		}
	}
	h.s.Format = llm.DetectFormat(h.s.Info.Path, plain)
	if h.s.Format == llm.FormatUnknown {
		if act, handled := h.s.UnknownFormat(h.p.m.dec, h.cfg.Common, filterName, h.cfg.UnknownFormat); handled {
			h.skip = act == filter.Continue
			return act
		}
	}
	// Generic: a body of no known format (embeddings, moderation, tool servers...) has every JSON string as a
	// segment, read by the same parser (a text or form body: its text); a body sdk/llm refuses is never read by
	// another one.
	ct, _ := h.s.Info.Header("content-type")
	req, err := h.x.ParseRequest(h.s.Format, plain, llm.Options{Path: h.s.Info.Path, Generic: true, Residual: true, ContentType: ct})
	if err != nil {
		// any parse error, sentinel or not (sdk/filter doc): the client's body
		return h.fail(telemetry.ReasonRequestBodyUnparseable, err)
	}
	if h.s.Format == "" {
		h.s.Format = req.Format
	}
	// images, PDFs, audio: what the model reads and no filter can; unreadable_attachments decides (text ones are
	// segments, masked below)
	if act, handled := h.s.Attachments(h.p.m.dec, h.cfg.Common, filterName, h.cfg.UnreadableAttachments, req.Attachments); handled {
		h.skip = act == filter.Continue
		return act
	}
	enforce := h.cfg.Enforce()
	if h.cfg.Entities == 0 && len(h.cfg.Custom) == 0 {
		h.log("allow", reasonClean, nil, nil)
		return filter.Continue
	}
	var edits []llm.Edit
	var findings []telemetry.Finding
	blocked := false
	var parts [][]byte
	for i := 0; i < len(req.Segments); {
		s := &req.Segments[i]
		if !h.cfg.masks(s.Provenance) {
			i++
			continue
		}
		// adjacent content parts of one message are scanned as one text (a value split across them is found)
		j := i + 1
		for j < len(req.Segments) && s.Part >= 0 && joinable(&req.Segments[j-1], &req.Segments[j]) {
			j++
		}
		parts = parts[:0]
		for k := i; k < j; k++ {
			parts = append(parts, bytesOf(req.Segments[k].Text))
		}
		for k, res := range h.cfg.masker.ApplyJoined(parts, &h.vault, !enforce) {
			seg := &req.Segments[i+k]
			findings = appendFindings(findings, seg.Text, seg.Index, res.Findings)
			if res.Blocked {
				blocked = true
			}
			if res.Changed {
				edits = append(edits, seg.Edit(string(res.Text))) // in the segment's encoding (base64 inlineData...)
			}
		}
		i = j
	}
	h.p.m.entities.Add(uint64(len(findings)))
	switch {
	case blocked && enforce:
		h.log("block", reasonBlocked, findings, nil)
		if err := h.s.Reply(h.cfg.BlockStatus, reasonBlocked, "the request contains personal data or secrets that may not be sent"); err != nil {
			filter.LogErrorf("%s: send local reply: %v", filterName, err)
		}
		return filter.Pause
	case len(findings) == 0:
		h.log("allow", reasonClean, nil, nil)
	case !enforce:
		action := "mask"
		reason := reasonMasked
		if blocked {
			action, reason = "block", reasonBlocked
		}
		h.log(action, reason, findings, nil)
	default:
		h.log("mask", reasonMasked, findings, []telemetry.Attr{{Key: "placeholders", Value: float64(h.vault.Len())}})
	}
	if len(edits) > 0 && enforce {
		out, err := llm.ApplyEditsStrict(plain, edits)
		if err == nil && h.reqEncoding != "" {
			out, err = body.Encode(h.reqEncoding, out)
		}
		if err == nil {
			err = filter.ReplaceRequestBody(out)
		}
		if err != nil { // llm.ErrBadEdit, encoder or host errors: host_error
			return h.fail(filter.ReasonFor(err, false), err)
		}
	}
	return filter.Continue
}

// joinable reports whether b is the content part right after a in the same message, with the same
// provenance (text parts a model reads as one text).
func joinable(a, b *llm.Segment) bool {
	return b.Message == a.Message && a.Part >= 0 && b.Part == a.Part+1 && b.Provenance == a.Provenance &&
		b.Role == a.Role && b.Tool == "" && a.Tool == "" && b.Path == "" && a.Path == ""
}

// appendFindings converts byte-offset findings (in order) in text to telemetry findings with code-point
// offsets, counting code points incrementally (linear in the text, not per finding).
func appendFindings(dst []telemetry.Finding, text string, segment int, fs []mask.Finding) []telemetry.Finding {
	pos, cp := 0, 0
	advance := func(to int) int {
		if to < pos { // out of order: count from the start
			pos, cp = 0, 0
		}
		cp += runeCount(text[pos:to])
		pos = to
		return cp
	}
	for _, f := range fs {
		start := advance(f.Start)
		end := advance(f.End)
		dst = append(dst, telemetry.Finding{Type: f.Name, Segment: segment, Start: start, End: end, Score: 1})
	}
	return dst
}

// fail takes the on_error path for a shared reason code (telemetry.Reason*): it logs the action on_error
// takes ("allow" or "block"; with mode "monitor" in monitor mode) and replies with filter.StatusFor(reason)
// unless the error lets the request through (config.Common.PassOnError: on_error allow, or monitor mode,
// which never replies). The error text may quote payload bytes: it is logged at debug level only.
func (h *httpContext) fail(reason string, err error) filter.Action {
	filter.LogDebugf("%s: %s: %v", filterName, reason, err)
	h.skip = true
	return h.s.FailRequest(h.p.m.dec, h.cfg.Common, telemetry.Decision{Filter: filterName, Reason: reason}, 0)
}

func (h *httpContext) log(action, reason string, findings []telemetry.Finding, attrs []telemetry.Attr) {
	d := telemetry.Decision{
		Filter: filterName, Rule: h.s.Rule, Action: action, Reason: reason, RequestID: h.s.RequestID(),
		Findings: findings, Attrs: attrs,
	}
	if len(findings) > 0 {
		d.Score = 1
		seen := map[string]bool{}
		for _, f := range findings {
			if !seen[f.Type] {
				seen[f.Type] = true
				d.Signals = append(d.Signals, f.Type)
			}
		}
	}
	if h.cfg != nil && !h.cfg.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	h.p.m.dec.Log(d)
}

// ---------------------------------------------------------------------------------------------------------
// responses

func (h *httpContext) OnResponseHeaders(endOfStream bool) filter.Action {
	if h.cfg == nil || endOfStream || h.s.Replied() {
		return filter.Continue // (Envoy runs the response callbacks for our own local reply too)
	}
	restore := h.cfg.RestoreResponses && h.vault.Len() > 0
	maskResp := h.cfg.MaskResponses
	if !restore && !maskResp {
		return filter.Continue
	}
	hs, err := filter.ResponseHeaders()
	if err != nil {
		return filter.Continue
	}
	ctype, status := "", 0
	for _, kv := range hs {
		switch kv[0] {
		case "content-type":
			ctype = kv[1]
		case "content-encoding":
			h.respEnc = kv[1]
		case ":status":
			status, _ = strconv.Atoi(kv[1])
		}
	}
	h.nd = body.IsNDJSON(ctype)
	// JSON under a wrong content type (text/plain, none) from an LLM endpoint is read as JSON all the same by
	// clients (other endpoints' text, downloads, are not collected)
	h.sniff = filter.MaybeJSON(ctype) && !h.nd && (h.s.Format != "" || llm.DetectFormat(h.s.Info.Path, nil) != "")
	if status >= 300 || !(body.IsJSON(ctype) || body.IsSSE(ctype) || h.nd || h.sniff) {
		return filter.Continue
	}
	if h.respEnc != "" && !body.Supported(h.respEnc) {
		// placeholders stay unrestored (nothing leaks); entities the model wrote could not be masked: an
		// on_error decision, under deny the body becomes the provider's error
		if h.respFail(fmt.Errorf("response content-encoding %q: %w", h.respEnc, body.ErrUnsupported)) {
			h.resp, h.refuse = true, true
			h.sseResp = body.IsSSE(ctype) || h.nd
			_ = filter.RemoveResponseHeader("content-encoding")
			_ = filter.DropResponseContentLength()
		}
		return filter.Continue
	}
	h.resp = true
	h.sseResp = body.IsSSE(ctype) || h.nd
	h.whole.Limit = h.cfg.MaxBodyBytes
	if h.s.Format == "" {
		h.s.Format = llm.DetectFormat(h.s.Info.Path, nil)
	}
	if h.nd && h.s.Format == "" {
		h.s.Format = llm.FormatOllama // the only provider streaming NDJSON
	}
	h.dec = filter.NewEventDecoder(h.nd, int(min(h.cfg.MaxBodyBytes, 1<<30))) // one event at most max_body_bytes
	h.parser = llm.NewStreamParser(h.s.Format)
	_ = filter.DropResponseContentLength()
	return filter.Continue
}

func (h *httpContext) OnResponseBody(bodySize int, endOfStream bool) filter.Action {
	if !h.resp {
		return filter.Continue
	}
	if h.refuse {
		if !h.refused {
			h.refused = true
			_ = filter.ReplaceResponseBody(h.errorBody(telemetry.ReasonUnsupportedEncoding))
		} else if bodySize > 0 {
			_ = filter.ReplaceResponseBody(nil)
		}
		return filter.Continue
	}
	if !h.sseResp || h.respEnc != "" {
		// JSON bodies, and compressed streams, are handled whole.
		// (later chunks after an error still go through Collect, which passes or empties them)
		raw, step, err := h.whole.Collect(bodySize, endOfStream)
		if err != nil { // over max_body_bytes, or unreadable
			h.failWhole(err)
			return filter.Continue
		}
		if step == filter.StepReady {
			out, err := h.wholeResponse(raw)
			if err != nil {
				h.failWhole(err)
				return filter.Continue
			}
			if !bytes.Equal(out, raw) {
				_ = filter.ReplaceResponseBody(out)
			}
			h.logResponse()
		}
		return filter.Continue
	}
	var data []byte
	if bodySize > 0 {
		var err error
		if data, err = filter.GetResponseBody(0, bodySize); err != nil {
			if !endOfStream {
				return filter.Continue
			}
			data = nil // still finish: what was held back must go out
		}
	}
	out := h.streamChunk(data, endOfStream)
	_ = filter.ReplaceResponseBody(out)
	if endOfStream {
		h.logResponse()
	}
	return filter.Continue
}

// respFail takes the on_error path for a response that cannot be rewritten (over max_body_bytes, corrupt
// compressed data, an SSE event over max_body_bytes): it logs and counts the error and reports whether the
// response fails closed. The body passes unchanged (placeholders stay unrestored: nothing leaks) unless
// mask_responses is on and the error does not let traffic through (config.Common.PassOnError: on_error deny,
// not monitor mode): then the caller drops the rest of the body and the client gets the provider-shaped error
// instead of entities the model wrote unmasked.
func (h *httpContext) respFail(err error) (closed bool) {
	reason := filter.ReasonFor(err, true)
	filter.LogDebugf("%s: %s: %v", filterName, reason, err)
	action := "allow"
	if h.cfg.MaskResponses && !h.cfg.FailOpen() {
		action = "block" // in monitor mode: what on_error deny would have done
	}
	h.log(action, reason, nil, nil)
	return h.cfg.MaskResponses && !h.cfg.PassOnError()
}

const respFailMessage = "the gateway could not check the response for personal data"

// failWhole takes the on_error path for a whole response: when it fails closed, the rest of the body is dropped
// and the client gets the provider-shaped error.
func (h *httpContext) failWhole(err error) {
	if h.respFail(err) {
		h.whole.Drop()
		_ = filter.ReplaceResponseBody(h.errorBody(filter.ReasonFor(err, true)))
	}
}

// errorBody is the provider-shaped error that replaces a response piimask could not check: a stream error
// event for streams, in the response's coding when it can produce it.
func (h *httpContext) errorBody(reason string) []byte {
	var b []byte
	if h.sseResp {
		b = reply.StreamError(h.s.Format, reason, respFailMessage, h.s.RequestID())
	} else {
		_, b = reply.Error(h.s.Format, 502, reason, respFailMessage, h.s.RequestID())
	}
	if h.refuse || h.respEnc == "" {
		return b // (content-encoding was removed for a refused coding)
	}
	if enc, err := body.Encode(h.respEnc, b); err == nil {
		return enc
	}
	return b
}

// wholeResponse decodes, rewrites and re-encodes a complete response body.
func (h *httpContext) wholeResponse(raw []byte) ([]byte, error) {
	plain := raw
	var err error
	if h.respEnc != "" {
		if plain, err = body.Decode(h.respEnc, raw, h.cfg.MaxBodyBytes); err != nil {
			return nil, err
		}
	}
	var out []byte
	switch {
	case h.sseResp:
		out = h.streamChunk(plain, true)
	case h.sniff && !filter.SniffJSON(plain):
		out = h.restoreRaw(plain) // plain text
	default:
		out = h.jsonResponse(plain)
	}
	if h.respEnc != "" {
		return body.Encode(h.respEnc, out)
	}
	return out, nil
}

func (h *httpContext) jsonResponse(b []byte) []byte {
	// a UTF-8 byte order mark: browsers' response.json() skips it (a rewritten body goes out without it)
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	resp, err := h.x.ParseResponse(h.s.Format, b)
	if err != nil && h.sniff {
		// JSON lines under a wrong content type (Ollama's stream as text/plain): read them as the stream
		h.nd = true
		if h.s.Format == "" {
			h.s.Format = llm.FormatOllama
		}
		h.parser = llm.NewStreamParser(h.s.Format)
		h.dec = filter.NewEventDecoder(true, int(min(h.cfg.MaxBodyBytes, 1<<30)))
		return h.streamChunk(b, true)
	}
	if err != nil {
		// Not a response we can read: restore placeholders in place (they are JSON-safe; values are escaped).
		return h.restoreRaw(b)
	}
	var edits []llm.Edit
	var masked []mask.Result
	for i := range resp.Segments {
		s := &resp.Segments[i]
		text := bytesOf(s.Text)
		changed := false
		if h.cfg.MaskResponses {
			if len(masked) == 0 {
				// adjacent text blocks / parts of one message are judged on their join (a renderer shows them
				// joined: a card split across two Anthropic text blocks is one card); findings map back to the
				// exact bytes of each block
				j := i + 1
				for j < len(resp.Segments) && s.Part >= 0 && joinable(&resp.Segments[j-1], &resp.Segments[j]) {
					j++
				}
				parts := make([][]byte, 0, j-i)
				for k := i; k < j; k++ {
					parts = append(parts, bytesOf(resp.Segments[k].Text))
				}
				masked = h.cfg.masker.ApplyJoined(parts, nil, !h.cfg.Enforce())
			}
			res := masked[0]
			masked = masked[1:]
			h.respFinds += len(res.Findings)
			if res.Changed {
				text, changed = res.Text, true
			}
		}
		if h.cfg.RestoreResponses {
			if r, n := mask.Restore(text, &h.vault); n > 0 {
				text, changed = r, true
				h.restoredN += n
			}
		}
		if changed {
			edits = append(edits, llm.Edit{Loc: s.Loc, Text: string(text)})
		}
	}
	if len(edits) == 0 {
		return b
	}
	out, err := llm.ApplyEditsStrict(b, edits)
	if err != nil {
		filter.LogWarnf("%s: apply response edits: %v", filterName, err)
		return b
	}
	return out
}

func (h *httpContext) restoreRaw(b []byte) []byte {
	if !h.cfg.RestoreResponses {
		return b
	}
	out, n := mask.Restore(b, &h.vault)
	h.restoredN += n
	return out
}

// pipeKey identifies one text stream inside a response (a choice's text, a tool call's arguments).
type pipeKey struct {
	kind   llm.DeltaKind
	choice int
	index  int
}

// pipe masks and/or restores one text stream; last is the last event that carried its text (a template for
// flushing held-back text).
//
// With mask_responses, the text of a choice is one joined pipe whatever content block (Anthropic) or part
// (Gemini) it comes in, and the text of a Responses output item one joined pipe whatever output_text / refusal
// part (content_index) it comes in: the masker judges the blocks on their join (mask.Streamer.Boundary) and
// gives each block its own output. Text held back at the end of a block goes into that block: the events after
// the block's last delta (its stop, the next block's start and first deltas) wait in the exchange's queue until
// the held text is decided (bounded by the masker's hold-back), then the block's last delta event carries it.
//
// Responses streams repeat each part's text alone (output_text.done, content_part.done) and the item's parts
// again (output_item.done, response.completed). Those snapshots carry what the part's deltas carried: the pipe
// keeps each part's output (outs), and a snapshot waits in the queue until its part's output is complete.
type pipe struct {
	masker   *mask.Streamer
	restorer *mask.Restorer
	last     sse.Event
	lastLoc  llm.Loc

	joined  bool
	started bool
	block   int       // Delta.Index (Responses: Delta.Part) of the current part
	part    int       // number of the current part
	starts  []int     // stream offset where each part starts
	rpart   int       // the part the restorer's held text belongs to
	refs    []partRef // per part: the event that carried its last text

	// Responses snapshots: per part, its block, the sum of its input and its output so far (outs is nil when
	// the pipe keeps no output: monitor mode without restoring, or more than max_body_bytes of it)
	blocks []int
	sums   []textSum
	outs   [][]byte
	outN   int
}

// textSum identifies a text by length and CRC-32: a snapshot whose text is the part's streamed input gets the
// part's streamed output.
type textSum struct {
	n   int
	crc uint32
}

func (t *textSum) add(s string) {
	t.n += len(s)
	t.crc = crc32.Update(t.crc, crc32.IEEETable, bytesOf(s))
}

func (t textSum) is(s string) bool {
	var u textSum
	u.add(s)
	return u == t
}

// partRef is where a part's last text went: a queued (or current) event and its edit, or an event already sent
// (then held text that comes later goes into a copy of it, right after it).
type partRef struct {
	q   *qEvent
	idx int
}

// qEvent is a stream event with the edits of its text deltas, sent at once or queued. snaps are edits of
// snapshots whose text is taken from their part's output when the event is sent.
type qEvent struct {
	ev      sse.Event
	edits   []llm.Edit
	snaps   []snapRef
	changed bool
	sent    bool
}

// snapRef: q.edits[edit] is a snapshot of part number part of pipe p.
type snapRef struct {
	p          *pipe
	part, edit int
}

// joinText: the formats whose text deltas name their content block / part (Delta.Index; Responses:
// Delta.Part inside the output item Delta.Index).
func (h *httpContext) joinText() bool {
	return h.cfg.MaskResponses && (h.s.Format == llm.FormatAnthropic || h.s.Format == llm.FormatGemini ||
		h.s.Format == llm.FormatOpenAIResponses)
}

func (h *httpContext) pipeFor(k pipeKey) *pipe {
	if h.pipes == nil {
		h.pipes = map[pipeKey]*pipe{}
	}
	joined := k.kind == llm.DeltaText && h.joinText()
	if joined && h.s.Format != llm.FormatOpenAIResponses {
		k.index = 0 // (Responses: one pipe per output item, the item's parts joined)
	}
	p := h.pipes[k]
	if p == nil {
		p = &pipe{joined: joined}
		if h.cfg.MaskResponses {
			p.masker = mask.NewStreamer(h.cfg.masker, nil, !h.cfg.Enforce())
		}
		if h.cfg.RestoreResponses && h.vault.Len() > 0 {
			p.restorer = mask.NewRestorer(&h.vault)
		}
		if joined && h.s.Format == llm.FormatOpenAIResponses && (h.cfg.Enforce() || p.restorer != nil) {
			p.outs = [][]byte{} // its snapshots take the parts' output (unchanged text needs none)
		}
		h.pipes[k] = p
		h.pipeOrder = append(h.pipeOrder, k)
	}
	return p
}

func (p *pipe) write(b []byte) []byte {
	if p.masker != nil {
		b = p.masker.Write(b)
	}
	if p.restorer != nil {
		b = p.restorer.Write(b)
	}
	return b
}

func (p *pipe) flush() []byte {
	var b []byte
	if p.masker != nil {
		b = p.masker.Flush()
	}
	if p.restorer != nil {
		b = append(p.restorer.Write(b), p.restorer.Flush()...)
	}
	return b
}

// switchPart starts a new part of a joined pipe when a delta comes in another block / part.
func (p *pipe) switchPart(index int) {
	if !p.started {
		p.started, p.block = true, index
		p.starts, p.refs = []int{0}, []partRef{{}}
		p.newPart()
		return
	}
	if index == p.block {
		return
	}
	p.block = index
	p.part++
	p.starts = append(p.starts, p.masker.Boundary())
	p.refs = append(p.refs, partRef{})
	p.newPart()
}

func (p *pipe) newPart() {
	p.blocks = append(p.blocks, p.block)
	p.sums = append(p.sums, textSum{})
	if p.outs != nil {
		p.outs = append(p.outs, nil)
	}
}

// keep records output of a part for its snapshots; past maxBytes of it the pipe keeps none (its snapshots are
// then masked whole, as those of unjoined pipes: an event that large fails max_body_bytes anyway).
func (p *pipe) keep(part int, b []byte, maxBytes int64) {
	if p.outs == nil {
		return
	}
	if p.outN += len(b); int64(p.outN) > maxBytes {
		p.outs = nil
		return
	}
	p.outs[part] = append(p.outs[part], b...)
}

// snapPart returns the part of a Responses snapshot of block ci whose text is that part's streamed input, or -1.
func (p *pipe) snapPart(ci int, text string) int {
	if p.outs == nil {
		return -1
	}
	for i := len(p.blocks) - 1; i >= 0; i-- {
		if p.blocks[i] == ci {
			if p.sums[i].is(text) {
				return i
			}
			return -1
		}
	}
	return -1
}

// complete reports whether the output of part pn is final: the masker (and the restorer) emitted the text of
// every part so far, or of every part up to the next one.
func (p *pipe) complete(pn int) bool {
	if p.restorer != nil && p.restorer.Pending() > 0 && p.rpart <= pn {
		return false
	}
	return p.masker.Pending() == 0 || pn < p.part && p.masker.Emitted() >= p.starts[pn+1]
}

// oldPending reports whether a joined pipe still holds text of a part before its current one.
func (p *pipe) oldPending() bool {
	return p.joined && p.part > 0 && p.masker.Emitted() < p.starts[p.part]
}

// route gives the masker's output by part to the restorer (one part at a time) and to the parts: the current
// part's text is returned, an earlier part's goes where that part's last text went (h.late).
func (h *httpContext) route(p *pipe, end bool) []byte {
	var own []byte
	deliver := func(part int, b []byte) {
		if len(b) == 0 {
			return
		}
		p.keep(part, b, h.cfg.MaxBodyBytes)
		if part == p.part {
			own = append(own, b...)
			return
		}
		h.late(p, part, b)
	}
	for _, pt := range p.masker.Parts() {
		b := pt.Text
		if p.restorer != nil {
			if pt.Part != p.rpart {
				deliver(p.rpart, p.restorer.Flush())
				p.rpart = pt.Part
			}
			b = p.restorer.Write(b)
		}
		deliver(pt.Part, b)
	}
	if p.restorer != nil && (end || p.rpart < p.part && p.masker.Emitted() >= p.starts[p.rpart+1]) {
		// the restorer's part is complete: what it holds back belongs to it
		deliver(p.rpart, p.restorer.Flush())
		p.rpart = p.part
	}
	return own
}

// late puts text of an earlier part where that part's last text went: appended to that event's edit while it is
// queued (or being built), else into a copy of it sent right after it (at the front of the queue).
func (h *httpContext) late(p *pipe, part int, b []byte) {
	r := &p.refs[part]
	if r.q != nil && !r.q.sent {
		r.q.edits[r.idx].Text += string(b)
		r.q.changed = true
		return
	}
	if r.q == nil {
		return // not reached: a part exists once a delta carried its text
	}
	c := &qEvent{ev: r.q.ev, edits: []llm.Edit{{Loc: r.q.edits[r.idx].Loc, Text: string(b)}}, changed: true}
	*r = partRef{q: c}
	if len(h.queue) == 0 {
		h.send(c)
		return
	}
	h.queue = append(h.queue, nil)
	copy(h.queue[h.head+1:], h.queue[h.head:])
	h.queue[h.head] = c
	h.head++
}

// send appends a processed event to the chunk's output.
func (h *httpContext) send(q *qEvent) {
	q.sent = true
	for _, r := range q.snaps {
		if r.p.outs == nil { // (dropped since: over max_body_bytes)
			if t, ok := h.wholeText(q.edits[r.edit].Text); ok {
				q.edits[r.edit].Text, q.changed = t, true
			}
			continue
		}
		if t := r.p.outs[r.part]; string(t) != q.edits[r.edit].Text {
			q.edits[r.edit].Text, q.changed = string(t), true
		}
	}
	ev := q.ev // kept as it came: a copy of it takes its locations
	if q.changed {
		ev = filter.RewriteStreamEvent(ev, q.edits, h.nd)
	}
	h.sout = append(h.sout, ev.Raw...)
}

// put sends q, or queues it while a joined pipe holds text that may still belong before it: q carries no text
// of a pipe that holds some (a block's stop, the next block's start), or the queue holds such events already.
// The queue goes out once every joined pipe's held text belongs to its current part and came with the latest
// event.
//
// An event with snapshots waits until the output of their parts is complete (and so do the events after it).
func (h *httpContext) put(q *qEvent, touched map[*pipe]int) {
	hold := !snapsReady(q)
	for _, k := range h.pipeOrder {
		p := h.pipes[k]
		if hold || !p.joined {
			continue
		}
		if _, ok := touched[p]; p.oldPending() || p.masker.Pending() > 0 && !ok {
			hold = true
		}
	}
	for i := 0; i < len(h.queue) && !hold; i++ {
		hold = !snapsReady(h.queue[i])
	}
	if !hold {
		h.release()
		h.send(q)
		return
	}
	h.queue = append(h.queue, q)
}

func snapsReady(q *qEvent) bool {
	for _, r := range q.snaps {
		if !r.p.complete(r.part) {
			return false
		}
	}
	return true
}

// release sends the queued events.
func (h *httpContext) release() {
	for _, q := range h.queue {
		h.send(q)
	}
	clear(h.queue)
	h.queue, h.head = h.queue[:0], 0
}

// streamChunk rewrites the SSE events completed by data; at the end of the stream every pipe is flushed.
func (h *httpContext) streamChunk(data []byte, end bool) []byte {
	switch h.streamFailed {
	case streamPass:
		return data
	case streamDrop:
		return nil
	}
	h.sout = h.streamOut[:0]
	evs := h.dec.Feed(data)
	failed := h.dec.Err() // an event over max_body_bytes: handled after the events before it
	if end && failed == nil {
		if ev, ok := h.dec.Flush(); ok {
			evs = append(evs, ev)
		}
	}
	for _, ev := range evs {
		q := &qEvent{ev: ev}
		if !ev.HasData {
			h.put(q, nil)
			continue
		}
		deltas, err := h.parser.Parse(ev)
		if err != nil {
			h.put(q, nil)
			continue
		}
		touched := map[*pipe]int{} // pipe → index of its edit in this event
		finishing := false
		for i := range deltas {
			d := &deltas[i]
			switch d.Kind {
			case llm.DeltaText, llm.DeltaToolArgs:
				p := h.pipeFor(pipeKey{d.Kind, d.Choice, d.Index})
				var got []byte
				if p.joined {
					if h.s.Format == llm.FormatOpenAIResponses {
						p.switchPart(d.Part)
					} else {
						p.switchPart(d.Index)
					}
					if p.outs != nil {
						p.sums[p.part].add(d.Text)
					}
					p.refs[p.part] = partRef{q: q, idx: len(q.edits)}
					p.masker.Write([]byte(d.Text))
					got = h.route(p, false)
				} else {
					got = p.write([]byte(d.Text))
				}
				p.last, p.lastLoc = ev, d.Loc
				touched[p] = len(q.edits)
				q.edits = append(q.edits, llm.Edit{Loc: d.Loc, Text: string(got)})
				if string(got) != d.Text {
					q.changed = true
				}
			case llm.DeltaSnapshot:
				// The text streamed so far, repeated whole (Responses *.done events, response.completed): the
				// item's held-back text goes out first, then the snapshot is rewritten like the deltas were.
				// A part of a joined pipe carries that part's output: the part's own *.done events wait until
				// it is complete (the next part's start decides its end), the item's snapshots end the item.
				h.flushItem(d.Choice, d.Index, touched, d.Whole)
				if p := h.pipes[pipeKey{llm.DeltaText, d.Choice, d.Index}]; p != nil && p.joined && d.ToolName == "" {
					if pn := p.snapPart(d.Part, d.Text); pn >= 0 {
						q.snaps = append(q.snaps, snapRef{p: p, part: pn, edit: len(q.edits)})
						q.edits = append(q.edits, llm.Edit{Loc: d.Loc, Text: d.Text})
						continue
					}
				}
				if t, ok := h.wholeText(d.Text); ok {
					q.edits = append(q.edits, llm.Edit{Loc: d.Loc, Text: t})
					q.changed = true
				}
			case llm.DeltaFinish, llm.DeltaDone:
				finishing = true
			}
		}
		if finishing {
			// Held-back text goes out before the answer ends: appended to this event's own delta, or as a copy
			// of the pipe's last text event placed before this one.
			for _, k := range h.pipeOrder {
				p := h.pipes[k]
				if p.joined {
					h.flushJoined(p)
					continue
				}
				if idx, ok := touched[p]; ok {
					if rest := p.flush(); len(rest) > 0 {
						q.edits[idx].Text += string(rest)
						q.changed = true
					}
					h.collect(p)
					continue
				}
				h.flushPipe(p)
			}
		}
		h.put(q, touched)
	}
	if failed != nil {
		h.flushPipes() // text held back from the events before it (already masked)
		if h.respFail(failed) {
			h.sout = append(h.sout, reply.StreamError(h.s.Format, filter.ReasonFor(failed, true), respFailMessage, h.s.RequestID())...)
			h.streamFailed = streamDrop
		} else {
			h.sout = append(h.sout, h.dec.Pending()...)
			h.streamFailed = streamPass
		}
		h.dec.Reset()
		out := h.sout
		h.streamOut, h.sout = out[:0], nil
		return out
	}
	if end {
		h.flushPipes()
	}
	out := h.sout
	h.streamOut, h.sout = out[:0], nil
	return out
}

// streamFailed values: after an SSE event over max_body_bytes the rest of the stream passes unparsed (on_error
// allow, monitor mode, or no mask_responses) or is dropped after an error event.
const (
	streamOK = iota
	streamPass
	streamDrop
)

// wholeText rewrites a snapshot (text already streamed as deltas, repeated whole) as the pipes rewrote the
// deltas: the whole-text masker and restorer give what the streaming ones emitted piece by piece. Findings and
// restorations are not counted again (the deltas counted them). ok is false when the text is unchanged.
func (h *httpContext) wholeText(s string) (string, bool) {
	if s == "" {
		return s, false
	}
	text := bytesOf(s)
	changed := false
	if h.cfg.MaskResponses {
		if res := h.cfg.masker.Apply(text, nil, !h.cfg.Enforce()); res.Changed {
			text, changed = res.Text, true
		}
	}
	if h.cfg.RestoreResponses && h.vault.Len() > 0 {
		if r, n := mask.Restore(text, &h.vault); n > 0 {
			text, changed = r, true
		}
	}
	if !changed {
		return s, false
	}
	return string(text), true
}

// flushItem emits the held-back text of the pipes of one output item (every kind) before the event that
// repeats the item's text whole, except pipes this event itself writes to, and joined pipes unless the item is
// finished (whole): a part's own *.done event does not end the text of the parts joined with it.
func (h *httpContext) flushItem(choice, index int, touched map[*pipe]int, whole bool) {
	for _, k := range h.pipeOrder {
		if k.choice != choice || k.index != index {
			continue
		}
		p := h.pipes[k]
		if _, ok := touched[p]; ok || p.joined && !whole {
			continue
		}
		h.flushPipe(p)
	}
}

// flushPipes emits each pipe's held-back text (as a copy of the last event that carried text for it), then
// the queue.
func (h *httpContext) flushPipes() {
	for _, k := range h.pipeOrder {
		if p := h.pipes[k]; p.joined {
			h.flushJoined(p)
		} else {
			h.flushPipe(p)
		}
	}
	h.release()
}

func (h *httpContext) flushPipe(p *pipe) {
	if p.joined {
		h.flushJoined(p)
		return
	}
	rest := p.flush()
	h.collect(p)
	if len(rest) == 0 || p.last.Raw == nil {
		return
	}
	c := &qEvent{ev: p.last, edits: []llm.Edit{{Loc: p.lastLoc, Text: string(rest)}}, changed: true}
	if len(h.queue) > 0 {
		h.queue = append(h.queue, c)
		return
	}
	h.send(c)
}

// flushJoined emits everything a joined pipe holds back, each part's text where that part's last text went.
func (h *httpContext) flushJoined(p *pipe) {
	if !p.started {
		return
	}
	p.masker.Flush()
	if own := h.route(p, true); len(own) > 0 {
		h.late(p, p.part, own)
	}
	h.collect(p)
}

func (h *httpContext) collect(p *pipe) {
	if p.masker != nil {
		h.respFinds += len(p.masker.Findings)
		p.masker.Findings = p.masker.Findings[:0]
	}
	if p.restorer != nil {
		h.restoredN += p.restorer.Restored
		p.restorer.Restored = 0
	}
}

func (h *httpContext) logResponse() {
	for _, k := range h.pipeOrder {
		h.collect(h.pipes[k])
	}
	h.p.m.restored.Add(uint64(h.restoredN))
	h.p.m.respMasked.Add(uint64(h.respFinds))
	kept := h.vault.KeptInLinks()
	if h.restoredN == 0 && h.respFinds == 0 && kept == 0 {
		return
	}
	reason, action := reasonRestored, "restore"
	if kept > 0 {
		reason = reasonKeptInLink
	}
	if h.respFinds > 0 {
		reason, action = reasonRespMasked, "mask"
	}
	h.log(action, reason, nil, []telemetry.Attr{
		{Key: "restored", Value: float64(h.restoredN)}, {Key: "response_entities", Value: float64(h.respFinds)},
		{Key: "kept_in_links", Value: float64(kept)},
	})
}

// bytesOf views a string as bytes without copying (segment texts can be large; a copy per segment is GC work
// inside wasm). The masker and restorer only read their input.
func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// runeCount is utf8.RuneCountInString (invalid bytes count as one code point each, as there) counted
// 8 bytes at a time: a byte starts a code point unless it is a continuation byte (10xxxxxx), and the
// continuation bytes of a word are flagged with two shifts and counted with one popcount. In wasm this is
// several times faster than the byte loop.
func runeCount(s string) int {
	n := len(s)
	if n < 16 {
		return utf8.RuneCountInString(s)
	}
	p := unsafe.Pointer(unsafe.StringData(s))
	const high = 0x8080808080808080
	cont := 0
	nonASCII := false
	i := 0
	for ; i+8 <= n; i += 8 {
		x := *(*uint64)(unsafe.Add(p, i))
		if x&high == 0 {
			continue // all ASCII
		}
		nonASCII = true
		cont += bits.OnesCount64(x &^ (x << 1) & high)
	}
	count := i - cont
	// the tail, and a code point cut by the last word boundary counts the same either way: continuation
	// bytes never start a code point, so counting per byte is exact for valid UTF-8. For invalid UTF-8 the
	// two counts differ; fall back to the standard library whenever the text is not valid.
	for ; i < n; i++ {
		if s[i] >= 0x80 {
			nonASCII = true
		}
		if s[i]&0xC0 != 0x80 {
			count++
		}
	}
	if nonASCII && !utf8.ValidString(s) {
		return utf8.RuneCountInString(s)
	}
	return count
}
