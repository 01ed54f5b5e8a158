package check

import (
	"strings"

	"github.com/wasmguard/wasmguard/sdk/placeholder"
	"github.com/wasmguard/wasmguard/sdk/render"
)

// link handles markdown constructs starting at '!' or '[': inline images and links, full/collapsed/shortcut
// reference links, and reference definitions.
func (s *scanner) link(p int) bool {
	t := s.text
	image := false
	open := p
	switch t[p] {
	case '!':
		if p+1 >= len(t) {
			return !s.more(p, p+1)
		}
		if t[p+1] != '[' {
			return true
		}
		image = true
		open = p + 1
	case '[':
		if p == s.skipImageBracket {
			return true
		}
		if p > 0 && t[p-1] == '\\' {
			return true
		}
	default:
		return true
	}
	closeB, ok, undecided := s.matchBracket(open)
	if undecided {
		return false
	}
	if !ok {
		return true
	}
	if closeB+1 >= len(t) {
		if s.more(p, closeB+1) {
			return false
		}
		s.useRef(p, closeB+1, t[open+1:closeB], image)
		s.markImage(image, open)
		return true
	}
	switch t[closeB+1] {
	case '(':
		ds, de, end, ok, undecided := s.inlineDest(closeB+2, p)
		if undecided {
			return false
		}
		s.markImage(image, open)
		if !ok {
			return true
		}
		where := "markdown_link"
		if image {
			where = "markdown_image"
		}
		s.evalURL(ds, de, where, image)
		_ = end
		return true
	case '[':
		lc, ok, undecided := s.matchBracket(closeB + 1)
		if undecided {
			return false
		}
		s.markImage(image, open)
		if !ok {
			s.useRef(p, closeB+1, t[open+1:closeB], image)
			return true
		}
		label := t[closeB+2 : lc]
		if len(label) == 0 {
			label = t[open+1 : closeB]
		} else if normLabel(label) != normLabel(t[open+1:closeB]) {
			// [text][undefined] renders [text] as a shortcut reference when "text" is defined: both labels count
			s.useRef(p, closeB+1, t[open+1:closeB], image)
		}
		s.useRef(p, lc+1, label, image)
		return true
	case ':':
		if !image && isDefinitionStart(t, p) {
			return s.definition(p, closeB)
		}
	}
	s.markImage(image, open)
	s.useRef(p, closeB+1, t[open+1:closeB], image)
	return true
}

func (s *scanner) markImage(image bool, open int) {
	if image {
		s.skipImageBracket = open
	}
}

// isDefinitionStart: a reference definition starts a line, indented by at most 3 spaces.
func isDefinitionStart(t []byte, p int) bool {
	q := p
	for q > 0 && t[q-1] == ' ' && p-q < 3 {
		q--
	}
	return lineStart(t, q)
}

// matchBracket finds the ']' matching the '[' at open (nested brackets balanced, backslash escapes honoured, no
// blank line inside).
func (s *scanner) matchBracket(open int) (closeAt int, ok, undecided bool) {
	t := s.text
	depth := 0
	for q := open; q < len(t); q++ {
		if q-open > s.k.maxConstruct {
			return 0, false, false
		}
		switch t[q] {
		case '\\':
			q++
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return q, true, false
			}
		case '\n':
			if q+1 < len(t) && t[q+1] == '\n' {
				return 0, false, false
			}
		}
	}
	if s.more(open, len(t)) {
		return 0, false, true
	}
	return 0, false, false
}

// inlineDest parses `(dest "title")` from q (just after the '('). It returns the destination range.
func (s *scanner) inlineDest(q, start int) (ds, de, end int, ok, undecided bool) {
	t := s.text
	n := len(t)
	for q < n && (t[q] == ' ' || t[q] == '\t' || t[q] == '\n') {
		q++
	}
	if q >= n {
		return 0, 0, 0, false, s.more(start, q)
	}
	ds = q
	if t[q] == '<' {
		for q++; q < n && t[q] != '>' && t[q] != '\n'; q++ {
		}
		if q >= n {
			return 0, 0, 0, false, s.more(start, q)
		}
		if t[q] != '>' {
			return 0, 0, 0, false, false
		}
		ds, de = ds+1, q
		q++
	} else {
		depth := 0
		for ; q < n; q++ {
			c := t[q]
			if c == '\\' {
				q++
				continue
			}
			if c == '(' {
				depth++
			} else if c == ')' {
				if depth == 0 {
					break
				}
				depth--
			} else if c <= ' ' {
				break
			}
			if q-start > s.k.maxConstruct {
				break
			}
		}
		if q >= n && s.more(start, q) {
			return 0, 0, 0, false, true
		}
		if q > n {
			q = n
		}
		de = q
	}
	// optional title, then ')'
	for q < n && isSpace(t[q]) {
		q++
	}
	if q < n && (t[q] == '"' || t[q] == '\'' || t[q] == '(') {
		cl := t[q]
		if cl == '(' {
			cl = ')'
		}
		for q++; q < n && t[q] != cl; q++ {
			if q-start > s.k.maxConstruct {
				return ds, de, q, true, false
			}
		}
		q++
		for q < n && isSpace(t[q]) {
			q++
		}
	}
	if q >= n {
		if s.more(start, q) {
			return 0, 0, 0, false, true
		}
		// unterminated at the end of the output: a lenient renderer may still show it; evaluate anyway
		return ds, de, n, de > ds, false
	}
	if t[q] != ')' {
		return 0, 0, 0, false, false
	}
	return ds, de, q + 1, de > ds, false
}

// definition handles `[label]: dest` (a reference definition): a suspicious URL is reported when the label is
// used (before or after the definition). An unused definition renders nothing.
func (s *scanner) definition(p, closeB int) bool {
	t := s.text
	n := len(t)
	q := closeB + 2
	nl := 0
	for q < n && isSpace(t[q]) {
		if t[q] == '\n' {
			nl++
		}
		q++
	}
	if nl > 1 {
		return true
	}
	if q >= n {
		return !s.more(p, q)
	}
	ds := q
	if t[q] == '<' {
		ds++
	}
	for q < n && !isSpace(t[q]) && t[q] != '>' {
		q++
	}
	if q >= n && s.more(p, q) {
		return false
	}
	de := q
	if de <= ds {
		return true
	}
	label := normLabel(t[p+1 : closeB])
	s.skipURL(ds, de)
	f, bad := s.judgeURL(ds, de, "reference_definition", false)
	if !bad {
		return true
	}
	if s.refUsed[label] {
		s.add(f)
		return true
	}
	if s.refBad == nil {
		s.refBad = make(map[string]Finding)
	}
	if len(s.refBad) < maxRefLabels {
		s.refBad[label] = f
	}
	return true
}

// useRef records the use of a reference label; when a suspicious definition of it was seen, the use is
// reported (its redaction keeps the link text only).
func (s *scanner) useRef(start, end int, rawLabel []byte, image bool) {
	label := normLabel(rawLabel)
	if label == "" {
		return
	}
	if f, ok := s.refBad[label]; ok {
		where := "reference_link"
		if image {
			where = "reference_image"
		}
		f.Type = where + f.Type[len("reference_definition"):]
		f.Start, f.End = start, end
		f.Replace = ""
		delete(s.refBad, label)
		s.add(f)
		return
	}
	if s.refUsed == nil {
		s.refUsed = make(map[string]bool)
	}
	if len(s.refUsed) < maxRefLabels {
		s.refUsed[label] = true
	}
}

func normLabel(b []byte) string {
	if len(b) > 200 {
		return ""
	}
	out := make([]byte, 0, len(b))
	sp := false
	for _, c := range b {
		if isSpace(c) {
			sp = len(out) > 0
			continue
		}
		if sp {
			out = append(out, ' ')
			sp = false
		}
		out = append(out, lower(c))
	}
	return string(out)
}

// bare handles text outside markdown/HTML constructs: auto-links (http:// and https:// URLs, which renderers
// make clickable) and bare javascript:/vbscript: URLs.
func (s *scanner) bare(p int) bool {
	t := s.text
	if p > 0 && isWordByte(t[p-1]) {
		return true
	}
	c := lower(t[p])
	if c == 'h' || c == 'w' {
		m1, part1 := webScheme(t, p)             // also written with character references or escapes (a linkifier reads them decoded)
		m3, part3 := hasPrefixFold(t, p, "www.") // GFM extended autolink
		if m3 && (p+4 >= len(t) || !isWordByte(t[p+4])) {
			m3 = false
			part3 = p+4 >= len(t)
		}
		if !m1 && !m3 {
			return !((part1 || part3) && s.more(p, len(t)))
		}
		q := p
		for q < len(t) && !isSpace(t[q]) && t[q] != '<' && t[q] != '>' && t[q] != '"' && t[q] != '`' && t[q] != '\'' && q-p < s.k.maxConstruct {
			q++
		}
		if q >= len(t) && s.more(p, q) {
			return false
		}
		// GFM: trailing punctuation and an unbalanced ')' are not part of the link
		for q > p && strings.IndexByte(".,:;!?*_~", t[q-1]) >= 0 {
			q--
		}
		if q > p && t[q-1] == ')' && countByte(t[p:q], '(') < countByte(t[p:q], ')') {
			q--
		}
		s.skipURL(p, q)
		s.evalURL(p, q, "autolink", false)
		return true
	}
	if (c == 'j' || c == 'v') && s.k.cfg.Markup.Enabled {
		end, typ, undecided := s.schemeAt(p)
		if undecided {
			return false
		}
		if typ == "" {
			return true
		}
		// in prose "JavaScript: a language" is harmless; a payload follows the colon directly
		if end >= len(t) {
			return !s.more(p, end)
		}
		if nc := t[end]; isSpace(nc) || nc == '*' || nc == '_' || nc == ')' || nc == ']' || nc == '"' || nc == '\'' {
			return true
		}
		s.add(Finding{Check: CheckMarkup, Type: typ, Start: p, End: end, Score: 1, Replace: "blocked:", CanRedact: true})
	}
	return true
}

// webScheme: t[p:] starts "http:" or "https:" followed by two slashes, where the colon and the slashes may be
// character references (&#58; &colon; &#x2F; &sol;), backslash escapes (\:) or backslashes (a browser reads '\'
// as '/' in these URLs). partial: the text ends before that is decided.
func webScheme(t []byte, p int) (match, partial bool) {
	q := p
	for _, want := range []byte("http") {
		if q >= len(t) {
			return false, true
		}
		if lower(t[q]) != want {
			return false, false
		}
		q++
	}
	if q < len(t) && lower(t[q]) == 's' {
		q++
	}
	for unit := 0; unit < 3; unit++ {
		if q >= len(t) {
			return false, true
		}
		c, w := urlUnit(t, q)
		if w == 0 {
			return false, true
		}
		if unit == 0 && c != ':' || unit > 0 && c != '/' && c != '\\' {
			return false, false
		}
		q += w
	}
	return true, false
}

// urlUnit reads one character of a URL in markdown text at q: a character reference, a backslash escape of
// punctuation other than '\', or a byte. w == 0: a reference cut off by the end of the text.
func urlUnit(t []byte, q int) (c byte, w int) {
	switch t[q] {
	case '&':
		r, w := render.CharRef(t, q)
		if w == 0 {
			e := q + 1
			for e < len(t) && e-q < 24 && (isWordByte(t[e]) || t[e] == '#') {
				e++
			}
			if e >= len(t) {
				return 0, 0
			}
			return '&', 1
		}
		if r >= 0x80 {
			return 0x80, w
		}
		return byte(r), w
	case '\\':
		if q+1 >= len(t) {
			return 0, 0
		}
		if n := t[q+1]; n != '\\' && n > ' ' && n < 0x7f && !isWordByte(n) {
			return n, 2
		}
	}
	return t[q], 1
}

// jsEscapeLen is the length of a \xNN or \u00NN escape of a C0 control character or space at q, or 0.
func jsEscapeLen(u []byte, q int) int {
	if q+3 < len(u)+0 && u[q] == '\\' && q+1 < len(u) {
		switch {
		case u[q+1] == 'x' && q+4 <= len(u) && (u[q+2] == '0' || u[q+2] == '1' || u[q+2] == '2' && u[q+3] == '0') && isHexByte(u[q+3]):
			return 4
		case u[q+1] == 'u' && q+6 <= len(u) && u[q+2] == '0' && u[q+3] == '0' && (u[q+4] == '0' || u[q+4] == '1' || u[q+4] == '2' && u[q+5] == '0') && isHexByte(u[q+5]):
			return 6
		}
	}
	return 0
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func countByte(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

// schemeAt reads a javascript:/vbscript:/livescript: scheme at p, tolerating what browsers strip (tab, CR, LF)
// and character references. end is just after the colon.
func (s *scanner) schemeAt(p int) (end int, typ string, undecided bool) {
	t := s.text
	var buf [16]byte
	n := 0
	q := p
	for q < len(t) && q-p < 80 {
		c, w := decodeSchemeByte(t, q)
		if w == 0 {
			return 0, "", s.more(p, len(t))
		}
		q += w
		if c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if c == ':' {
			if typ := schemeType(string(buf[:n])); typ != "" {
				return q, typ, false
			}
			return 0, "", false
		}
		if n == len(buf) || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return 0, "", false
		}
		buf[n] = lower(c)
		n++
		if !schemePrefix(string(buf[:n])) {
			return 0, "", false
		}
	}
	return 0, "", q >= len(t) && s.more(p, q)
}

func schemePrefix(s string) bool {
	return strings.HasPrefix("javascript", s) || strings.HasPrefix("vbscript", s) || strings.HasPrefix("livescript", s)
}

func schemeType(s string) string {
	switch s {
	case "javascript", "livescript":
		return "javascript_url"
	case "vbscript":
		return "vbscript_url"
	}
	return ""
}

// decodeSchemeByte decodes one byte or one character reference (&#58; &#x3a; &colon; &Tab; &NewLine;) at q.
// w == 0 means the reference is cut off by the end of the text.
func decodeSchemeByte(t []byte, q int) (c byte, w int) {
	if t[q] != '&' {
		return t[q], 1
	}
	e := q + 1
	for e < len(t) && e-q < 12 && t[e] != ';' && (isWordByte(t[e]) || t[e] == '#') {
		e++
	}
	if e >= len(t) {
		return 0, 0
	}
	ent := strings.ToLower(string(t[q+1 : e]))
	w = e - q
	if t[e] == ';' {
		w++
	}
	switch ent {
	case "colon":
		return ':', w
	case "tab":
		return '\t', w
	case "newline":
		return '\n', w
	}
	if len(ent) > 1 && ent[0] == '#' {
		v := 0
		if ent[1] == 'x' {
			for _, d := range ent[2:] {
				switch {
				case d >= '0' && d <= '9':
					v = v*16 + int(d-'0')
				case d >= 'a' && d <= 'f':
					v = v*16 + int(d-'a'+10)
				default:
					return '&', 1
				}
				if v > 255 {
					return '&', 1
				}
			}
		} else {
			for _, d := range ent[1:] {
				if d < '0' || d > '9' {
					return '&', 1
				}
				v = v*10 + int(d-'0')
				if v > 255 {
					return '&', 1
				}
			}
		}
		return byte(v), w
	}
	return '&', 1
}

// dangerousURL reports an executable URL scheme (after what browsers strip: leading spaces/controls, tab/CR/LF
// inside, character references).
func dangerousURL(u []byte) string {
	var buf [32]byte
	n := 0
	q := 0
	for q < len(u) && (u[q] <= ' ' || jsEscapeLen(u, q) > 0) {
		if u[q] <= ' ' {
			q++
		} else {
			q += jsEscapeLen(u, q) // a control character written as \x0B / \u000B (the text is a JS or JSON string)
		}
	}
	for q < len(u) && n < len(buf) {
		c, w := decodeSchemeByte(u, q)
		if w == 0 {
			break
		}
		q += w
		if c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		buf[n] = lower(c)
		n++
		if c == ':' {
			break
		}
	}
	s := string(buf[:n])
	if i := strings.IndexByte(s, ':'); i > 0 {
		if typ := schemeType(s[:i]); typ != "" {
			return typ
		}
		if s[:i] == "data" {
			rest := strings.ToLower(string(u[min(len(u), q):min(len(u), q+40)]))
			rest = strings.TrimLeft(rest, " ")
			for _, mt := range []string{"text/html", "application/xhtml", "image/svg", "text/javascript", "application/javascript", "text/xml", "application/xml"} {
				if strings.HasPrefix(rest, mt) {
					return "data_html_url"
				}
			}
		}
	}
	return ""
}

// evalURL judges the URL at t[ds:de] and records a finding if it is dangerous or exfiltrating.
func (s *scanner) evalURL(ds, de int, where string, image bool) {
	s.skipURL(ds, de)
	if f, bad := s.judgeURL(ds, de, where, image); bad {
		s.add(f)
	}
}

func (s *scanner) judgeURL(ds, de int, where string, image bool) (Finding, bool) {
	k := s.k
	raw := s.text[ds:de]
	// the URL as the renderer and the browser read it: character references, backslash escapes, tab/newline
	u := raw
	if needsDecode(raw) {
		s.urlBuf = render.Decode(s.urlBuf[:0], raw, render.URL)
		u = s.urlBuf
	}
	if typ := dangerousURL(u); typ != "" {
		if !k.cfg.Markup.Enabled {
			return Finding{}, false
		}
		return Finding{Check: CheckMarkup, Type: typ, Start: ds, End: de, Score: 1, Replace: k.cfg.Exfil.Placeholder, CanRedact: true}, true
	}
	if !k.cfg.Exfil.Enabled {
		return Finding{}, false
	}
	f := Finding{Check: CheckExfil, Start: ds, End: de, Replace: k.cfg.Exfil.Placeholder, CanRedact: true}
	// a piimask placeholder stands for the user's own data (piimask restores it in whichever order the filters
	// run): in any URL, link or image, with any host, it is data leaving
	if s.hasPlaceholder(raw, u) {
		f.Type, f.Score = where+"_pii_placeholder", 1
		return f, true
	}
	if k.cfg.Exfil.ImagesOnly && !image {
		return Finding{}, false
	}
	host, rest, user, ok := splitURL(u)
	if !ok {
		return Finding{}, false
	}
	if len(user) > 0 && (image || payloadScore(user)+hostScore(host) >= k.cfg.Exfil.Threshold) {
		// credentials in the URL (https://user:pw@host/): the browser sends them to the host as a Basic
		// Authorization header when it fetches an image, whatever the host; in a link they score like a path
		f.Type, f.Score = where+"_credentials_in_url", 1
		return f, true
	}
	if len(k.allow) > 0 && !k.hostAllowed(host) {
		f.Type, f.Score = where+"_untrusted_host", 1
		return f, true
	}
	score := payloadScore(rest) + hostScore(host)
	if indexByte(rest, '%') >= 0 {
		// data percent-encoded in the path or query scores as it reads decoded
		s.pctBuf = render.Decode(s.pctBuf[:0], rest, render.Percent)
		score = max(score, payloadScore(s.pctBuf)+hostScore(host))
	}
	if image {
		score += 0.2
	}
	if score >= k.cfg.Exfil.Threshold {
		f.Type, f.Score = where+"_data_in_url", score
		return f, true
	}
	return Finding{}, false
}

// needsDecode: u holds a byte the URL decoding would change.
func needsDecode(u []byte) bool {
	if len(u) > 0 && (u[0] <= ' ' || u[len(u)-1] <= ' ') {
		return true
	}
	for i, c := range u {
		switch c {
		case '\\', '\t', '\n', '\r':
			return true
		case '&':
			// a character reference, not a query separator (&b=2): '#', or letters ending in ';', or a legacy name
			if _, w := render.CharRef(u, i); w > 0 {
				return true
			}
		}
	}
	return false
}

// hasPlaceholder: a piimask placeholder in the URL as written, as decoded, or percent-decoded.
func (s *scanner) hasPlaceholder(raw, u []byte) bool {
	if placeholder.Contains(raw) || len(u) > 0 && len(raw) > 0 && &u[0] != &raw[0] && placeholder.Contains(u) {
		return true
	}
	if indexByte(u, '%') < 0 {
		return false
	}
	s.pctBuf = render.Decode(s.pctBuf[:0], u, render.Percent)
	return placeholder.Contains(s.pctBuf)
}

// splitURL returns the lower-case host, the part after it and the userinfo (before the last '@' of the authority,
// as written) of an absolute (or protocol-relative) URL, read as the WHATWG URL parser reads one: for the special
// schemes (http, https, ftp, ws, wss) any run of '/' and '\' (even none) separates scheme and host, '\' ends the
// host like '/', and the host is percent-decoded.
func splitURL(u []byte) (host string, rest, user []byte, ok bool) {
	i := 0
	for i < len(u) && u[i] <= ' ' {
		i++
	}
	u = u[i:]
	switch {
	case len(u) >= 2 && isSlash(u[0]) && isSlash(u[1]):
		u = u[2:]
	case len(u) > 4 && strings.EqualFold(string(u[:4]), "www."):
		// scheme-less autolink: the host starts here
	default:
		j := indexByte(u, ':')
		if j <= 0 || j > 8 {
			return "", nil, nil, false
		}
		switch strings.ToLower(string(u[:j])) {
		case "http", "https", "ftp", "ws", "wss":
		default:
			return "", nil, nil, false
		}
		u = u[j+1:]
		for len(u) > 0 && (isSlash(u[0]) || u[0] <= ' ') {
			u = u[1:]
		}
	}
	for len(u) > 0 && isSlash(u[0]) {
		u = u[1:]
	}
	e := 0
	for e < len(u) && u[e] != '/' && u[e] != '?' && u[e] != '#' && u[e] != '\\' {
		e++
	}
	auth := u[:e]
	if at := lastIndexByte(auth, '@'); at >= 0 {
		user = auth[:at]
		auth = auth[at+1:]
	}
	if c := lastIndexByte(auth, ':'); c >= 0 && indexByte(auth, ']') < c {
		auth = auth[:c]
	}
	h := strings.ToLower(string(auth))
	if strings.IndexByte(h, '%') >= 0 {
		b := []byte(h)
		h = strings.ToLower(string(render.Decode(b[:0:0], b, render.Percent)))
	}
	if strings.IndexByte(h, 0xE3) >= 0 || strings.IndexByte(h, 0xEF) >= 0 {
		// ideographic and full-width full stops are dots to IDNA
		h = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(h)
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return "", nil, nil, false
	}
	return h, u[e:], user, true
}

func isSlash(c byte) bool { return c == '/' || c == '\\' }

// hostScore scores data smuggled in DNS labels (https://<base64>.attacker.example/...): a label of 20+
// characters mixing letters and digits, or a very long host.
func hostScore(host string) float64 {
	score := 0.0
	for rest := host; rest != ""; {
		label := rest
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			label, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if len(label) >= 20 && longestOpaqueRunString(label) >= 20 {
			score += 0.6
			break
		}
	}
	if len(host) > 100 {
		score += 0.3
	}
	return score
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// payloadScore scores how much the path/query/fragment of a URL looks like it carries data. Each feature adds;
// 0.6 and up is "data in URL" by default. It does not allocate (it runs for every link).
func payloadScore(rest []byte) float64 {
	score := 0.0
	if len(rest) > 200 {
		score += 0.3
	}
	// placeholders that instruct the model to fill in data: [DATA], {data}, $DATA, <data>
	for _, ph := range urlPlaceholders {
		if indexFold(rest, ph) >= 0 {
			score += 0.6
			break
		}
	}
	// an e-mail address in the path or query
	if at := indexByte(rest, '@'); at > 0 || indexFold(rest, "%40") >= 0 {
		if at < 0 || at+1 < len(rest) && indexByte(rest[at+1:], '.') > 0 {
			score += 0.6
		}
	}
	path, query := rest, []byte(nil)
	for i, c := range rest {
		if c == '?' || c == '#' {
			path, query = rest[:i], rest[i+1:]
			break
		}
	}
	if indexByte(path, '=') >= 0 {
		score += 0.3 // key=value in the path
	}
	// path segments carry data as query values do: a sensitive key followed by a value (/password/hunter2,
	// /password=hunter2, /token:abc), and sentences (/conversation%20summary%20of%20it)
	sensitive, pathSentence := false, false
	for seg, segs := []byte(nil), path; len(segs) > 0; {
		seg, segs = nextSegment(segs)
		if k, v := splitKV(seg); len(v) > 0 && sensitiveKey(k, true) {
			sensitive = true
		} else if sensitiveKey(seg, false) && len(segs) > 0 {
			if next, _ := nextSegment(segs); len(next) > 0 {
				sensitive = true
			}
		}
		if !pathSentence && (indexByte(seg, '+') >= 0 || indexByte(seg, '%') >= 0) && countWordsEncoded(seg) >= 3 {
			pathSentence = true
		}
	}
	if pathSentence {
		score += 0.3
	}
	params, longest, sentence := 0, 0, false
	for len(query) > 0 {
		kv, next := query, []byte(nil)
		for i, c := range query {
			if c == '&' || c == ';' {
				kv, next = query[:i], query[i+1:]
				break
			}
		}
		query = next
		if len(kv) == 0 {
			continue
		}
		params++
		key, v := kv, kv
		if i := indexByte(kv, '='); i >= 0 {
			key, v = kv[:i], kv[i+1:]
		}
		if len(v) > 0 && sensitiveKey(key, true) {
			sensitive = true
		}
		if len(v) > longest {
			longest = len(v)
		}
		if countWordsEncoded(v) >= 2 {
			sentence = true
		}
	}
	if sensitive {
		score += 0.6
	}
	switch {
	case longest >= 48:
		score += 0.6
	case longest >= 24:
		score += 0.3
	}
	if sentence {
		score += 0.4
	}
	switch {
	case params >= 6:
		score += 0.5
	case params >= 4:
		score += 0.2
	}
	// an opaque high-entropy run (base64/hex) in path or query
	if r := longestOpaqueRun(rest); r >= 32 {
		score += 0.5
	} else if r >= 20 {
		score += 0.2
	}
	return score
}

// nextSegment splits the first path segment off p (separators '/', '\\' and ';').
func nextSegment(p []byte) (seg, rest []byte) {
	for len(p) > 0 && (p[0] == '/' || p[0] == '\\' || p[0] == ';') {
		p = p[1:]
	}
	for i, c := range p {
		if c == '/' || c == '\\' || c == ';' {
			return p[:i], p[i:]
		}
	}
	return p, nil
}

// splitKV splits "key=value" or "key:value" (nil value when there is neither).
func splitKV(seg []byte) (key, value []byte) {
	for i, c := range seg {
		if c == '=' || c == ':' {
			return seg[:i], seg[i+1:]
		}
	}
	return seg, nil
}

// sensitiveKey: a URL key or path segment that names a credential (ASCII case, '-', '_' and '.' ignored); with
// keyed (a query key, "key=" in a path segment) also a personal datum. A bare path segment takes the strict list
// only: /docs/session/ or /api/token/ are ordinary paths.
func sensitiveKey(k []byte, keyed bool) bool {
	if len(k) < 2 || len(k) > 24 || sensitiveFirst[k[0]|0x20] == 0 {
		return false
	}
	var buf [24]byte
	n := 0
	for _, c := range k {
		if c == '-' || c == '_' || c == '.' {
			continue
		}
		buf[n] = lower(c)
		n++
	}
	switch string(buf[:n]) {
	case "password", "passwd", "pwd", "passphrase", "secret", "apikey", "apisecret", "accesstoken", "authtoken",
		"refreshtoken", "sessionid", "credential", "credentials", "creds", "ssn", "creditcard", "cardnumber", "cvv",
		"cvc", "privatekey", "otp", "jwt":
		return true
	case "pass", "secrets", "session", "cookie", "cookies", "cc", "pin", "email", "mail", "phone", "dob",
		"address", "iban", "token", "bearer":
		return keyed
	}
	return false
}

// sensitiveFirst marks the (lower-case) first letters of the sensitive keys: most segments are rejected by it.
var sensitiveFirst = func() (t [256]uint8) {
	for _, c := range []byte("pacsrcdojtembi") {
		t[c] = 1
	}
	return t
}()

var urlPlaceholders = []string{"[data]", "{data}", "$data", "<data>", "%5bdata%5d", "{{", "[info]", "[summary]", "[secret]", "[password]"}

// indexFold is the index of lowerNeedle in b compared ASCII-case-insensitively, or -1.
func indexFold(b []byte, lowerNeedle string) int {
	if len(lowerNeedle) == 0 {
		return 0
	}
	f := lowerNeedle[0]
	for i := 0; i+len(lowerNeedle) <= len(b); i++ {
		if lower(b[i]) != f {
			continue
		}
		j := 1
		for j < len(lowerNeedle) && lower(b[i+j]) == lowerNeedle[j] {
			j++
		}
		if j == len(lowerNeedle) {
			return i
		}
	}
	return -1
}

// countWordsEncoded counts words separated by encoded spaces ('+', %20) or quotes in a query value.
func countWordsEncoded(v []byte) int {
	seps := countByte(v, '+') + countFold(v, "%20") + countFold(v, "%22")/2
	if seps == 0 {
		return 1
	}
	return seps + 1
}

func countFold(b []byte, lowerNeedle string) int {
	n := 0
	for {
		i := indexFold(b, lowerNeedle)
		if i < 0 {
			return n
		}
		n++
		b = b[i+len(lowerNeedle):]
	}
}

func longestOpaqueRunString(s string) int {
	var buf [256]byte
	if len(s) > len(buf) {
		return longestOpaqueRun([]byte(s))
	}
	return longestOpaqueRun(buf[:copy(buf[:], s)])
}

// longestOpaqueRun is the longest run of base64/hex alphabet with at least one digit and mixed letter case or
// digits+letters, i.e. not a plain word.
func longestOpaqueRun(b []byte) int {
	best := 0
	i := 0
	for i < len(b) {
		if !isB64(b[i]) {
			i++
			continue
		}
		j := i
		var up, lo, dg bool
		for j < len(b) && isB64(b[j]) {
			c := b[j]
			up = up || c >= 'A' && c <= 'Z'
			lo = lo || c >= 'a' && c <= 'z'
			dg = dg || c >= '0' && c <= '9'
			j++
		}
		if n := j - i; n > best && dg && (up || lo) && !(up && !lo && !dg) {
			best = n
		}
		i = j
	}
	return best
}

func isB64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '_' || c == '-'
}
