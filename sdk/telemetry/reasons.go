package telemetry

// Reason codes for the failures every filter shares (its on_error path). Filters add their own codes
// for their decisions ("prompt_injection_detected", "pii_masked", ...); these keep the common ones the
// same across filters, in replies, decision logs and metric tags. filter.ReasonFor maps sdk errors to
// them and filter.StatusFor gives each its reply status (see the sdk/filter package doc for the table).
const (
	ReasonRequestBodyTooLarge     = "request_body_too_large"    // over max_body_bytes (raw or decoded)
	ReasonResponseBodyTooLarge    = "response_body_too_large"   // over max_body_bytes (raw or decoded)
	ReasonRequestBodyUnparseable  = "request_body_unparseable"  // not the JSON the API format expects
	ReasonResponseBodyUnparseable = "response_body_unparseable" // not the JSON the API format expects
	ReasonBodyUndecodable         = "body_undecodable"          // corrupt gzip/deflate/br/zstd data
	ReasonUnsupportedEncoding     = "unsupported_content_encoding"
	ReasonBodyUnreadable          = "body_unreadable"        // the host cannot hand the body over (Kong spill)
	ReasonStreamEventTooLarge     = "stream_event_too_large" // one SSE/NDJSON event over the pending limit
	ReasonHostError               = "host_error"             // a host call failed, or an error the sdk does not classify
	// ReasonScanBudgetExceeded: the body is within max_body_bytes but a scan limit (segments, bytes scanned)
	// was reached before all of it was inspected. Never a silent pass: it is an on_error decision.
	ReasonScanBudgetExceeded = "scan_budget_exceeded"
	// ReasonResponseHoldTimeout: a filter held the response headers to judge the body and the body never
	// reached it (a host that does not deliver bodies to held headers: Envoy without
	// allow_on_headers_stop_iteration).
	ReasonResponseHoldTimeout = "response_hold_timeout"
)

// ReasonUnknownFormat: a request body of no known LLM format that a filter's unknown_format lets through
// uninspected (allow) or refuses (deny). Not an on_error reason: the operator chose it.
const ReasonUnknownFormat = "unknown_format"

// ReasonUnreadableAttachment: a request carrying an inline attachment no text filter can read (an image, a PDF,
// audio) that a filter's unreadable_attachments: deny refuses. Not an on_error reason: the operator chose it.
const ReasonUnreadableAttachment = "unreadable_attachment"

// Actions: the one vocabulary of Decision.Action in every filter's decision log and of the action label of
// wasmguard_<filter>_requests_total.
const (
	ActionAllow    = "allow"    // let through unchanged (also: on_error allow)
	ActionBlock    = "block"    // refused: a local reply, or a response replaced by an error (also: on_error deny)
	ActionMask     = "mask"     // request text rewritten (piimask)
	ActionRedact   = "redact"   // response text rewritten (outputguard, piimask mask_responses)
	ActionAnnotate = "annotate" // let through with annotation headers
	ActionClamp    = "clamp"    // max_tokens lowered to fit a budget (tokenbudget)
	ActionTruncate = "truncate" // a stream cut short (tokenbudget)
	ActionRestore  = "restore"  // placeholders restored in the response (piimask)
	// ActionMonitor is the requests_total label of a decision taken in monitor mode that would have acted
	// (its log line keeps the action and says "mode":"monitor").
	ActionMonitor = "monitor"
)

// ReasonNone is the reason of a decision that found nothing.
const ReasonNone = "none"

// IsErrorReason reports whether reason is one of the shared on_error codes above (the filter could not
// inspect the exchange).
func IsErrorReason(reason string) bool {
	switch reason {
	case ReasonRequestBodyTooLarge, ReasonResponseBodyTooLarge, ReasonRequestBodyUnparseable, ReasonResponseBodyUnparseable,
		ReasonBodyUndecodable, ReasonUnsupportedEncoding, ReasonBodyUnreadable, ReasonStreamEventTooLarge, ReasonHostError,
		ReasonScanBudgetExceeded, ReasonResponseHoldTimeout:
		return true
	}
	return false
}
