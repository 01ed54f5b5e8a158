package config

import "github.com/tidwall/gjson"

// Mode says whether a filter acts on its findings.
type Mode string

// The two modes every filter accepts under "mode".
const (
	// ModeEnforce blocks, masks or rewrites as configured (the default).
	ModeEnforce Mode = "enforce"
	// ModeMonitor only logs decisions and counts metrics; traffic passes unchanged.
	ModeMonitor Mode = "monitor"
)

// OnError says what a filter does when it cannot do its job: a body over max_body_bytes, a body it
// cannot parse or decompress, a failing host call.
type OnError string

// The two failure policies every filter accepts under "on_error".
const (
	// OnErrorDeny rejects the request with a provider-shaped error (the default: fail closed).
	OnErrorDeny OnError = "deny"
	// OnErrorAllow lets the request pass unchecked and logs why (fail open).
	OnErrorAllow OnError = "allow"
)

// Limits of max_body_bytes.
const (
	DefaultMaxBodyBytes int64 = 1 << 20  // 1 MiB
	MaxMaxBodyBytes     int64 = 64 << 20 // 64 MiB; a wasm VM holds the whole body in linear memory
)

// Common holds the settings every filter accepts at the top level (and per rule).
type Common struct {
	Mode           Mode    // "mode": enforce | monitor; default enforce
	OnError        OnError // "on_error": allow | deny; default deny
	MaxBodyBytes   int64   // "max_body_bytes": 1 .. 64 MiB; default 1 MiB (decoded size)
	ConsumerHeader string  // "consumer_header": header naming the caller (lower-cased); "" = none; top level only
}

// Enforce reports whether the filter should act (Mode is not monitor).
func (c Common) Enforce() bool { return c.Mode != ModeMonitor }

// FailOpen reports whether on_error is allow. It is the action a filter logs for an error; whether the
// traffic passes is PassOnError, which also holds in monitor mode.
func (c Common) FailOpen() bool { return c.OnError == OnErrorAllow }

// PassOnError reports whether an error lets the traffic through: on_error is allow, or the filter is
// in monitor mode (which never blocks, not even on errors; it logs the decision on_error would take).
func (c Common) PassOnError() bool { return c.FailOpen() || !c.Enforce() }

// ReadCommon reads mode, on_error, max_body_bytes and consumer_header from o. consumer_header can
// only be set at the top level: the consumer is read before a rule is selected (rules match on it).
func ReadCommon(o Obj) Common {
	o.GlobalOnly("consumer_header")
	return Common{
		Mode:           Mode(o.Enum("mode", string(ModeEnforce), string(ModeEnforce), string(ModeMonitor))),
		OnError:        OnError(o.Enum("on_error", string(OnErrorDeny), string(OnErrorAllow), string(OnErrorDeny))),
		MaxBodyBytes:   o.Int("max_body_bytes", DefaultMaxBodyBytes, 1, MaxMaxBodyBytes),
		ConsumerHeader: o.HeaderName("consumer_header", ""),
	}
}

// HeaderName reads an HTTP header name (RFC 9110 token characters) and returns it lower-cased.
// Absent or null gives def.
func (o Obj) HeaderName(key, def string) string {
	f := o.get(key)
	if f == nil {
		return def
	}
	if f.val.Type == gjson.String && validHeaderName(f.val.Str) {
		return lower(f.val.Str)
	}
	o.fail(f, `must be an HTTP header name such as "x-consumer-id"`)
	return def
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
			c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}

// lower is an ASCII lower-casing that does not allocate when s is already lower-case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// The values of unknown_format, the key of the filters that inspect request text (promptguard, piimask): what a
// request body of no known LLM format gets.
const (
	UnknownFormatScan  = "scan"  // every JSON string (or the text of a text/form body) is inspected (the default)
	UnknownFormatAllow = "allow" // passes uninspected, counted as allow / unknown_format
	UnknownFormatDeny  = "deny"  // refused (415, reason unknown_format)
)

// UnknownFormats lists the values of unknown_format.
var UnknownFormats = []string{UnknownFormatScan, UnknownFormatAllow, UnknownFormatDeny}

// The values of unreadable_attachments, the key of the filters that inspect request text (promptguard, piimask):
// what a request gets that carries attachments no text filter can read (inline images, PDFs, audio, office
// documents, and files the provider fetches by URL or file id; llm.Request.Attachments). Textual attachments (text/*, JSON, CSV...) are decoded and inspected like
// any other text whatever this says.
const (
	// UnreadableAttachmentsAllow forwards the request, its text inspected and its attachments not; each one is
	// counted (wasmguard_<filter>_attachments_uninspected_total) and logged at debug level. The default: images
	// and PDFs are everyday traffic.
	UnreadableAttachmentsAllow = "allow"
	// UnreadableAttachmentsDeny refuses the request (415, reason unreadable_attachment).
	UnreadableAttachmentsDeny = "deny"
)

// UnreadableAttachments lists the values of unreadable_attachments (the first is the default). A filter reads the
// key itself, as unknown_format, so the schema test sees which filters have it:
//
//	o.Enum("unreadable_attachments", config.UnreadableAttachmentsAllow, config.UnreadableAttachments...)
var UnreadableAttachments = []string{UnreadableAttachmentsAllow, UnreadableAttachmentsDeny}
