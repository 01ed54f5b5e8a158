package llm

import (
	"bytes"
	"net/url"
	"strings"
)

// The generic reader: a body of no known format still has its text inspected. Every JSON string value (object
// keys excluded) becomes a segment with provenance user, Message -1, Part -1, its Loc and its JSON path, so a
// filter can score or rewrite it like any other segment.

// ParseGeneric parses any JSON body with the generic reader (Format FormatUnknown). The body is validated as
// ParseRequest validates it; Options.DuplicateKeys applies.
func ParseGeneric(body []byte, o Options) (*Request, error) {
	if err := validate(body); err != nil {
		return nil, inputErrf("parse request", err)
	}
	r := root(body)
	if o.DuplicateKeys == DuplicateKeysReject {
		if err := checkDuplicates(body, r); err != nil {
			return nil, inputErrf("parse request", shapeError{err})
		}
	}
	return genericRequest(body, r), nil
}

func genericRequest(b []byte, r val) *Request {
	s := segs{b: b}
	s.leaves(r, -1, -1, "user", ProvUser, "", "")
	return &Request{Format: FormatUnknown, Segments: s.list}
}

// textRequest reads a body that is not JSON as text when Options.ContentType says it is text or a form.
func textRequest(f Format, body []byte, o Options) (*Request, bool) {
	ct := strings.ToLower(strings.TrimSpace(o.ContentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	if f == FormatUnknown {
		f = formatFromPath(o.Path)
	}
	req := &Request{Format: f}
	switch {
	case ct == "application/x-www-form-urlencoded":
		for i := 0; i <= len(body); {
			j := bytes.IndexByte(body[i:], '&')
			if j < 0 {
				j = len(body) - i
			}
			pair := body[i : i+j]
			if eq := bytes.IndexByte(pair, '='); eq >= 0 {
				key, _ := url.QueryUnescape(string(pair[:eq]))
				raw := pair[eq+1:]
				text, err := url.QueryUnescape(string(raw))
				if err != nil {
					return nil, false // not a valid form: the caller's ErrInvalidJSON
				}
				start := i + eq + 1
				req.Segments = append(req.Segments, Segment{Index: len(req.Segments), Message: -1, Part: -1, Role: "user",
					Provenance: ProvUser, Text: text, Loc: Loc{start, start + len(raw)}, Path: key, Encoding: EncodingForm})
			}
			i += j + 1
		}
		return req, true
	case strings.HasPrefix(ct, "text/"):
		if len(body) > 0 {
			req.Segments = []Segment{{Message: -1, Part: -1, Role: "user", Provenance: ProvUser, Text: string(body),
				Loc: Loc{0, len(body)}, Encoding: EncodingRaw}}
		}
		return req, true
	}
	return nil, false
}
