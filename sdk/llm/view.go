package llm

// SharedOptions returns the options of one parse from which View derives what ParseRequestWith gives for o:
// o's Path and DuplicateKeys, with Residual on, no DocumentMarkers, and neither Generic nor ContentType (a body
// that needs them does not parse with these options: parse it with o then).
func SharedOptions(o Options) Options {
	return Options{Path: o.Path, DuplicateKeys: o.DuplicateKeys, ToolDefinitions: o.ToolDefinitions, Residual: true}
}

// View returns what ParseRequestWith(f, body, o) returns, given r = ParseRequestWith(f, body, SharedOptions(o))
// parsed without error: the same request without the residual segments unless o.Residual, and with the user
// segments that start with one of o.DocumentMarkers as documents. r is not modified; the view shares what is
// unchanged with it. ok is false when r was not parsed with shared options.
func (r *Request) View(o Options) (v *Request, ok bool) {
	if r.residualFrom == 0 {
		return nil, false
	}
	segs := r.Segments
	if !o.Residual {
		if n := r.residualFrom - 1; n > 0 {
			segs = segs[:n:n]
		} else {
			segs = nil // as the parse leaves a request without segments
		}
	}
	if len(o.DocumentMarkers) > 0 {
		var docs []Segment
		for i := range segs {
			if segs[i].Provenance == ProvUser && isDocument(segs[i].Text, o.DocumentMarkers) {
				if docs == nil {
					docs = append([]Segment(nil), segs...)
				}
				docs[i].Provenance = ProvDocument
			}
		}
		if docs != nil {
			segs = docs
		}
	}
	if o.Residual && len(segs) == len(r.Segments) && (len(segs) == 0 || &segs[0] == &r.Segments[0]) {
		return r, true
	}
	c := *r
	c.Segments = segs
	if !o.Residual {
		c.residualFrom = 0 // a view without them is no base for another view
	}
	return &c, true
}
