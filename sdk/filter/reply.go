package filter

import (
	"errors"
	"slices"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

	"github.com/wasmguard/wasmguard/sdk/body"
	"github.com/wasmguard/wasmguard/sdk/config"
	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
	"github.com/wasmguard/wasmguard/sdk/sse"
	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

// SendReply answers the request locally with a provider-shaped error (see sdk/reply). The callback
// that calls it must then return types.ActionPause. Prefer Stream.Reply, which also guards against a
// second reply (Kong traps on it).
func SendReply(f llm.Format, status int, code, message, requestID string) error {
	headers, body := reply.Error(f, status, code, message, requestID)
	return sendResponse(status, headers, body)
}

// sendResponse sends a local reply, once per exchange when called inside a pipeline callback.
func sendResponse(status int, headers [][2]string, body []byte) error {
	if x := cur; x != nil {
		if x.replied {
			return nil
		}
		x.replied = true
	}
	return proxywasm.SendHttpResponse(uint32(status), headers, body, -1)
}

// Stream is the per-request state most filters keep: what the request is, which format it speaks,
// and whether the filter already replied locally. Embed or hold one in the HttpContext.
type Stream struct {
	Info   *config.RequestInfo // from ReadRequestInfo in OnHttpRequestHeaders
	Format llm.Format          // once known (llm.DetectFormat)
	Rule   string              // the config rule that applies

	replied bool
}

// RequestID returns the request id ("" before Info is set).
func (s *Stream) RequestID() string {
	if s.Info == nil {
		return ""
	}
	return s.Info.RequestID
}

// Reply sends a provider-shaped local reply once; later calls do nothing and return nil. The callback
// must then return types.ActionPause. Use it from request callbacks (or before response headers were
// forwarded): once response headers went downstream Envoy can only reset the stream, so a response
// filter rewrites the body instead (reply.Error's body, or reply.StreamError for a stream).
func (s *Stream) Reply(status int, code, message string) error {
	if s.replied {
		return nil
	}
	s.replied = true
	return SendReply(s.Format, status, code, message, s.RequestID())
}

// Replied reports whether this filter sent a local reply. Envoy runs the filter's own response
// callbacks for that reply: skip response processing when Replied is true.
func (s *Stream) Replied() bool { return s.replied }

// LogDecision writes d as one info-level line (telemetry.Decision.String: "wasmguard decision {...}").
func LogDecision(d telemetry.Decision) {
	proxywasm.LogInfo(d.String())
}

// ReasonFor maps an error from this package, sdk/body, sdk/sse or sdk/llm to the shared reason code
// (telemetry.Reason...), for on_error replies, decision logs and metric tags. response selects the
// response_* variants. The table is in the package doc ("Errors, reason codes and statuses"); errors
// it does not know map to telemetry.ReasonHostError.
func ReasonFor(err error, response bool) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBodyTooLarge), errors.Is(err, body.ErrTooLarge):
		if response {
			return telemetry.ReasonResponseBodyTooLarge
		}
		return telemetry.ReasonRequestBodyTooLarge
	case errors.Is(err, ErrBodyUnreadable):
		return telemetry.ReasonBodyUnreadable
	case errors.Is(err, ErrScanBudget):
		return telemetry.ReasonScanBudgetExceeded
	case errors.Is(err, body.ErrUnsupported):
		return telemetry.ReasonUnsupportedEncoding
	case errors.Is(err, sse.ErrTooLarge):
		return telemetry.ReasonStreamEventTooLarge
	case errors.Is(err, body.ErrCorrupt):
		return telemetry.ReasonBodyUndecodable
	case errors.Is(err, llm.ErrInvalidJSON), errors.Is(err, llm.ErrInvalidShape), errors.Is(err, llm.ErrUnknownFormat):
		// malformed JSON, invalid UTF-8, nesting over llm.MaxDepth, a body that is not an object, or
		// JSON that is no known LLM API: the client's (or upstream's) body, not a host failure
		if response {
			return telemetry.ReasonResponseBodyUnparseable
		}
		return telemetry.ReasonRequestBodyUnparseable
	}
	return telemetry.ReasonHostError
}

// StatusFor is the HTTP status of a local reply for a shared reason code: 413 for a request body over
// the limit or one the host cannot hand over (Kong spills bodies above its buffer to disk), 415 for an
// unsupported encoding, 400 for an undecodable or unparseable request body, 502 for a response the
// filter cannot check (over the limit, unparseable, a streamed event too large: the upstream's fault,
// never the client's), 500 otherwise (host errors and codes it does not know).
func StatusFor(reason string) int {
	switch reason {
	case telemetry.ReasonRequestBodyTooLarge, telemetry.ReasonBodyUnreadable, telemetry.ReasonScanBudgetExceeded:
		return 413
	case telemetry.ReasonUnsupportedEncoding:
		return 415
	case telemetry.ReasonBodyUndecodable, telemetry.ReasonRequestBodyUnparseable:
		return 400
	case telemetry.ReasonResponseBodyTooLarge, telemetry.ReasonResponseBodyUnparseable, telemetry.ReasonStreamEventTooLarge:
		return 502
	}
	return 500
}

// FailRequest applies the on_error policy to a request a stage could not inspect, the same way in every
// filter. d names the filter and the shared reason code (telemetry.Reason* or the filter's own), plus any
// context the filter adds (signals, attributes); FailRequest fills its action (block when on_error is deny,
// allow when allow), mode (monitor in monitor mode), rule and request id, and logs and counts it with dec. When
// the error stops the request (on_error deny in enforce mode) it sends the provider-shaped local reply (status
// StatusFor(d.Reason), or status when non-zero, with the shared message for the reason) once per exchange and
// returns Pause; otherwise Continue. The error text itself is not logged at info level (it may quote payload
// bytes): log it at debug level before calling.
//
//	if err != nil {
//		return h.s.FailRequest(h.dec, h.cfg.Common, telemetry.Decision{Filter: "piimask", Reason: filter.ReasonFor(err, false)}, 0)
//	}
func (s *Stream) FailRequest(dec *Decisions, c config.Common, d telemetry.Decision, status int) Action {
	if d.Rule == "" {
		d.Rule = s.Rule
	}
	if d.RequestID == "" {
		d.RequestID = s.RequestID()
	}
	act := FailRequest(dec, c, d, s.Format, status)
	if act == Pause {
		s.replied = true
	}
	return act
}

// FailRequest is Stream.FailRequest for a stage that keeps its request information itself: d must carry the
// rule and request id, f is the format the reply is shaped for.
func FailRequest(dec *Decisions, c config.Common, d telemetry.Decision, f llm.Format, status int) Action {
	d.Action = telemetry.ActionBlock
	if c.FailOpen() {
		d.Action = telemetry.ActionAllow
	}
	d.Mode = ""
	if !c.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	dec.Log(d)
	if c.PassOnError() {
		return Continue
	}
	if status == 0 {
		status = StatusFor(d.Reason)
	}
	_ = SendReply(f, status, d.Reason, failMessage(d.Reason), d.RequestID)
	return Pause
}

// UnknownFormat applies a filter's unknown_format policy to a request body of no known LLM format, the same way
// in every filter: scan returns handled false (the stage inspects the body with llm.Options.Generic); allow
// counts the request as allow / unknown_format and continues; deny logs a block and answers 415 in the
// provider's error shape (monitor mode logs it and continues).
func (s *Stream) UnknownFormat(dec *Decisions, c config.Common, filterName, policy string) (act Action, handled bool) {
	switch policy {
	case config.UnknownFormatAllow:
		dec.Count(telemetry.ActionAllow, telemetry.ReasonUnknownFormat)
		return Continue, true
	case config.UnknownFormatDeny:
		d := telemetry.Decision{Filter: filterName, Rule: s.Rule, Action: telemetry.ActionBlock, Reason: telemetry.ReasonUnknownFormat, RequestID: s.RequestID()}
		if !c.Enforce() {
			d.Mode = string(config.ModeMonitor)
		}
		dec.Log(d)
		if !c.Enforce() {
			return Continue, true
		}
		_ = s.Reply(415, telemetry.ReasonUnknownFormat, "the gateway's security filter does not accept requests of an unknown format on this route")
		return Pause, true
	}
	return Continue, false
}

// Attachments applies a filter's unreadable_attachments policy (config.UnreadableAttachments*) to the inline
// attachments of a parsed request that no text filter can read (llm.Request.Attachments: inline images, PDFs,
// audio, and content the provider fetches by URL or file id),
// the same way in promptguard and piimask. With none it does nothing. allow: each attachment is counted in
// wasmguard_<filter>_attachments_uninspected_total and logged at debug level, and the filter goes on with the
// request's text (handled false). deny: one decision (block, reason unreadable_attachment, the media types as
// signals) is logged and counted, and the request refused with a provider-shaped 415 (Pause); in monitor mode the
// decision is logged with mode monitor, the attachments counted as uninspected and the request passes (Continue,
// handled true: like unknown_format, nothing else is decided for it).
func (s *Stream) Attachments(dec *Decisions, c config.Common, filterName, policy string, atts []llm.Attachment) (act Action, handled bool) {
	if len(atts) == 0 {
		return Continue, false
	}
	var kinds []string
	for _, a := range atts {
		k := a.MediaType
		switch {
		case k == "" && a.Remote:
			k = "remote" // a URL or file id the provider fetches
		case k == "":
			k = "unknown"
		}
		if len(kinds) < 8 && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	if policy != config.UnreadableAttachmentsDeny || !c.Enforce() {
		dec.uninspected.Add(uint64(len(atts)))
	}
	if policy != config.UnreadableAttachmentsDeny {
		LogDebugf("%s: %d attachment(s) of type %v forwarded uninspected (unreadable_attachments: allow)", filterName, len(atts), kinds)
		return Continue, false
	}
	d := telemetry.Decision{Filter: filterName, Rule: s.Rule, Action: telemetry.ActionBlock, Reason: telemetry.ReasonUnreadableAttachment,
		RequestID: s.RequestID(), Signals: kinds, Attrs: []telemetry.Attr{{Key: "attachments", Value: float64(len(atts))}}}
	if !c.Enforce() {
		d.Mode = string(config.ModeMonitor)
	}
	dec.Log(d)
	if !c.Enforce() {
		return Continue, true
	}
	_ = s.Reply(415, telemetry.ReasonUnreadableAttachment, "the request carries an attachment (image, PDF, audio, a file by URL or id...) the gateway's security filter cannot inspect, and this route does not accept such attachments")
	return Pause, true
}

func failMessage(reason string) string {
	switch reason {
	case telemetry.ReasonRequestBodyTooLarge:
		return "the request body is larger than the gateway's security filter accepts"
	case telemetry.ReasonUnsupportedEncoding:
		return "the request body uses a content encoding the gateway's security filter cannot read"
	case telemetry.ReasonBodyUndecodable:
		return "the request body could not be decoded"
	case telemetry.ReasonBodyUnreadable:
		return "the request body could not be inspected by the gateway's security filter"
	case telemetry.ReasonRequestBodyUnparseable:
		return "the request body is not valid JSON for this API"
	case telemetry.ReasonScanBudgetExceeded:
		return "the request is larger than the gateway's security filter can inspect"
	}
	return "the gateway's security filter could not check the request"
}
