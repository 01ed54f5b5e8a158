package llm

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
