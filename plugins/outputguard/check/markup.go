package check

import "strings"

// tag handles an HTML start tag at '<': dangerous elements, event-handler and style attributes, executable URL
// schemes in URL attributes, and exfiltrating src/href values. The tag is tokenised the way the HTML tokenizer
// does it (quotes only matter in attribute values).
func (s *scanner) tag(p int) bool {
	t := s.text
	n := len(t)
	if t[p] != '<' {
		return true
	}
	q := p + 1
	if q >= n {
		return !s.more(p, q)
	}
	if !(t[q] >= 'a' && t[q] <= 'z' || t[q] >= 'A' && t[q] <= 'Z') {
		return true
	}
	ns := q
	for q < n && !isSpace(t[q]) && t[q] != '/' && t[q] != '>' {
		q++
	}
	if q >= n && s.more(p, q) {
		return false
	}
	name := strings.ToLower(string(t[ns:q]))
	if strings.IndexByte(name, ':') >= 0 && !strings.HasPrefix(name, "svg:") {
		return true // <https://...> auto-link, left to the bare-URL stage
	}
	type attr struct {
		name     string
		vs, ve   int
		hasValue bool
	}
	var attrs [24]attr
	na := 0
	end := -1
	for q < n && end < 0 {
		if q-p > s.k.maxConstruct {
			end = q
			break
		}
		c := t[q]
		if isSpace(c) || c == '/' {
			q++
			continue
		}
		if c == '>' {
			end = q + 1
			break
		}
		as := q
		for q < n && !isSpace(t[q]) && t[q] != '/' && t[q] != '>' && (t[q] != '=' || q == as) {
			q++
		}
		a := attr{name: strings.ToLower(string(t[as:q]))}
		r := q
		for r < n && isSpace(t[r]) {
			r++
		}
		if r < n && t[r] == '=' {
			r++
			for r < n && isSpace(t[r]) {
				r++
			}
			if r < n && (t[r] == '"' || t[r] == '\'') {
				qc := t[r]
				r++
				a.vs = r
				for r < n && t[r] != qc {
					r++
				}
				a.ve = r
				if r < n {
					r++
				}
			} else {
				a.vs = r
				for r < n && !isSpace(t[r]) && t[r] != '>' {
					r++
				}
				a.ve = r
			}
			a.hasValue = true
			q = r
		}
		if na < len(attrs) {
			attrs[na] = a
			na++
		}
	}
	if end < 0 {
		if s.more(p, n) {
			return false
		}
		end = n
	}
	k := s.k
	closeEnd := -1
	if (name == "script" || name == "style") && k.cfg.Markup.Enabled {
		// the element's content is code/CSS: the whole element is one finding; wait for its end tag
		if closeEnd = closingTag(t, end, name); closeEnd < 0 && s.more(p, n) {
			return false
		}
	}
	s.tagUntil = end
	markupType := ""
	switch name {
	case "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "portal":
		markupType = name + "_tag"
	case "meta":
		for _, a := range attrs[:na] {
			if a.name == "http-equiv" && strings.EqualFold(strings.TrimSpace(string(t[a.vs:a.ve])), "refresh") {
				markupType = "meta_refresh"
			}
		}
	case "link":
		for _, a := range attrs[:na] {
			if a.name == "rel" {
				v := strings.ToLower(string(t[a.vs:a.ve]))
				if strings.Contains(v, "stylesheet") || strings.Contains(v, "import") || strings.Contains(v, "prefetch") || strings.Contains(v, "preload") {
					markupType = "link_tag"
				}
			}
		}
	}
	var exfil []Finding
	for _, a := range attrs[:na] {
		if markupType != "" && !k.cfg.Exfil.Enabled {
			break
		}
		switch {
		case len(a.name) > 2 && strings.HasPrefix(stripJSEscapes(a.name), "on"):
			if markupType == "" {
				markupType = "event_handler"
			}
		case a.name == "style" && a.hasValue:
			if markupType == "" && dangerousStyle(t[a.vs:a.ve]) {
				markupType = "style_attribute"
			}
			// url(...) in the style loads as an image does
			s.rngBuf = cssURLs(s.rngBuf[:0], t, a.vs, a.ve)
			for _, r := range s.rngBuf {
				if f, bad := s.judgeURL(r.start, r.end, "html_"+name+"_css", true); bad && f.Check == CheckExfil {
					exfil = append(exfil, f)
				}
			}
		case a.hasValue && isURLAttr(a.name):
			auto := a.name != "href" && a.name != "action" && a.name != "formaction" && a.name != "cite"
			s.rngBuf = attrURLs(s.rngBuf[:0], t, a.name, a.vs, a.ve)
			for _, r := range s.rngBuf {
				if typ := dangerousURL(t[r.start:r.end]); typ != "" {
					if markupType == "" {
						markupType = typ
					}
					continue
				}
				if f, bad := s.judgeURL(r.start, r.end, "html_"+name, auto); bad {
					if f.Check == CheckExfil {
						exfil = append(exfil, f)
					} else if markupType == "" {
						markupType = f.Type // an executable URL written with escapes
					}
				}
			}
		}
	}
	if markupType != "" && k.cfg.Markup.Enabled {
		s.add(Finding{Check: CheckMarkup, Type: markupType, Start: p, End: end, Score: 1, Replace: escapeHTML(t[p:end]), CanRedact: true})
		if closeEnd > end {
			s.out[len(s.out)-1].End = closeEnd
			s.out[len(s.out)-1].Replace = escapeHTML(t[p:closeEnd])
			s.tagUntil = closeEnd
		}
	}
	for _, f := range exfil {
		s.add(f)
	}
	return true
}

// closingTag returns the end of </name> after from, or -1 (the element runs to the end of the text).
func closingTag(t []byte, from int, name string) int {
	for q := from; q+2+len(name) < len(t); q++ {
		if t[q] == '<' && t[q+1] == '/' {
			if m, _ := hasPrefixFold(t, q+2, name); m {
				e := q + 2 + len(name)
				for e < len(t) && t[e] != '>' {
					e++
				}
				if e < len(t) {
					return e + 1
				}
				return -1
			}
		}
	}
	return -1
}

// attrURLs appends to out the URL ranges of a URL attribute value t[vs:ve]: the value itself, or for srcset/imagesrcset
// each comma-separated candidate's URL (the part before its descriptor). At most 16.
func attrURLs(out []rng, t []byte, name string, vs, ve int) []rng {
	if name != "srcset" && name != "imagesrcset" {
		return append(out, rng{vs, ve})
	}
	q := vs
	for q < ve && len(out) < 16 {
		for q < ve && (isSpace(t[q]) || t[q] == ',') {
			q++
		}
		us := q
		for q < ve && !isSpace(t[q]) {
			q++
		}
		ue := q
		// a URL ending in ',' with no descriptor ends the candidate
		if ue > us && t[ue-1] == ',' {
			ue--
		}
		if ue > us {
			out = append(out, rng{us, ue})
		}
		for q < ve && t[q] != ',' {
			q++ // the descriptor
		}
	}
	return out
}

// cssURLs appends to out the ranges of the url(...) arguments in CSS t[vs:ve] (quotes stripped). At most 16.
func cssURLs(out []rng, t []byte, vs, ve int) []rng {
	for q := vs; q+4 <= ve && len(out) < 16; q++ {
		if t[q] != '(' || q < vs+3 || !strings.EqualFold(string(t[q-3:q]), "url") {
			continue
		}
		us := q + 1
		for us < ve && isSpace(t[us]) {
			us++
		}
		quote := byte(0)
		if us < ve && (t[us] == '"' || t[us] == '\'') {
			quote = t[us]
			us++
		}
		ue := us
		for ue < ve && (quote != 0 && t[ue] != quote || quote == 0 && t[ue] != ')' && !isSpace(t[ue])) {
			ue++
		}
		if ue > us {
			out = append(out, rng{us, ue})
		}
		q = ue
	}
	return out
}

// stripJSEscapes drops leading \xNN / \u00NN escapes of controls and spaces (an attribute name written inside a
// JS or JSON string: "\x20onerror" is " onerror" once the string is decoded).
func stripJSEscapes(name string) string {
	for {
		n := jsEscapeLen([]byte(name), 0)
		if n == 0 {
			return name
		}
		name = name[n:]
	}
}

func isURLAttr(name string) bool {
	switch name {
	case "src", "href", "action", "formaction", "data", "poster", "background", "srcset", "imagesrcset", "xlink:href", "lowsrc", "dynsrc", "cite", "ping", "codebase", "archive", "longdesc", "manifest", "icon", "itemtype":
		return true
	}
	return false
}

// dangerousStyle reports CSS in a style attribute that executes code, loads resources or overlays the page.
func dangerousStyle(v []byte) bool {
	// strip comments, spaces and backslash escapes the way CSS obfuscation uses them
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '/' && i+1 < len(v) && v[i+1] == '*' {
			j := i + 2
			for j+1 < len(v) && !(v[j] == '*' && v[j+1] == '/') {
				j++
			}
			i = j + 1
			continue
		}
		if isSpace(c) || c == '\\' {
			continue
		}
		b = append(b, lower(c))
	}
	st := string(b)
	for _, bad := range []string{"expression(", "url(", "behavior:", "-moz-binding", "javascript:", "position:fixed", "position:absolute", "@import"} {
		if strings.Contains(st, bad) {
			return true
		}
	}
	return false
}

func escapeHTML(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for _, c := range b {
		switch c {
		case '<':
			sb.WriteString("&lt;")
		case '>':
			sb.WriteString("&gt;")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
