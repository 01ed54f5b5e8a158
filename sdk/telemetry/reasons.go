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
)
