package render

// LinkWindow bounds how far before a position InLink looks for the construct that encloses it. A link construct
// that opened further back is not seen (outputguard bounds its constructs the same way).
const LinkWindow = 4096

// InLink reports whether text[i] lies where a renderer or browser would send it to a server: in a markdown link or
// image destination, a reference definition line, an HTML tag (any attribute: src, href, srcset, background,
// style, ...), an autolink <scheme:...>, a bare URL (http://, https://, //, www., also written with character
// references, backslash escapes or backslashes), or a CSS url(...). It errs on the side of yes: a position in the
// title of a link or in a tag's alt text also counts.
//
// The text before i is read from at most LinkWindow bytes back, from a line start when there is one.
func InLink(text []byte, i int) bool {
	if i < 0 || i > len(text) {
		return false
	}
	return bareURLBefore(text, i) || inConstruct(text, i)
}

// bareURLBefore: the run of non-space bytes that ends at i, decoded, holds a URL start ("//" after decoding and
// backslash→slash, a "www." at its start, or a CSS "url(" not closed before i).
func bareURLBefore(text []byte, i int) bool {
	s := i
	for s > 0 && i-s < LinkWindow && !isSpace(text[s-1]) {
		s--
	}
	if s == i {
		return false
	}
	var buf [256]byte
	run := text[s:i]
	d := Decode(buf[:0], run, Entities|Backslash|Percent)
	// also the raw run: a backslash escape of a backslash decodes to one, yet a browser sees both
	for _, b := range [][]byte{d, run} {
		prevSlash := false
		for k, c := range b {
			slash := c == '/' || c == '\\'
			if slash && prevSlash {
				return true
			}
			prevSlash = slash
			if (c == 'w' || c == 'W') && k+4 <= len(b) && (k == 0 || !isAlnum(b[k-1])) && foldEq(b[k:k+4], "www.") {
				return true
			}
		}
		if openURLFunc(b) {
			return true
		}
	}
	return false
}

// openURLFunc: b holds "url(" (any case) with no ')' after it.
func openURLFunc(b []byte) bool {
	open := false
	for k := 0; k < len(b); k++ {
		if b[k] == '(' && k >= 3 && foldEq(b[k-3:k], "url") {
			open = true
		} else if b[k] == ')' {
			open = false
		}
	}
	return open
}

// inConstruct runs a small tokenizer from the window start to i: HTML tags (with quoted attribute values),
// markdown inline destinations after "](", reference definitions, and CSS url(...).
func inConstruct(text []byte, i int) bool {
	lo := max(0, i-LinkWindow)
	inTag, quote := false, byte(0)
	destEnd := -1 // end of the current markdown destination / definition line
	for p := lo; p < i; p++ {
		c := text[p]
		if p < destEnd {
			continue
		}
		if inTag {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				inTag = false
			}
			continue
		}
		switch c {
		case '\\':
			p++ // an escaped character starts nothing
		case '<':
			if p+1 < len(text) && (isAlpha(text[p+1]) || text[p+1] == '/' || text[p+1] == '!' || text[p+1] == '?') {
				inTag = true
			}
		case '(':
			if p >= 3 && foldEq(text[p-3:p], "url") {
				destEnd = closeParen(text, p+1) // CSS url(...) in <style> content or prose
			}
		case ']':
			if p+1 < len(text) && text[p+1] == '(' {
				destEnd = destinationEnd(text, p+2)
				p++
			} else if p+1 < len(text) && text[p+1] == ':' && definitionLine(text, p) {
				destEnd = lineEnd(text, p)
				if blankAfter(text, p+2, destEnd) && destEnd < len(text) {
					destEnd = lineEnd(text, destEnd+1) // the destination is on the next line
				}
			}
		}
	}
	return inTag || i < destEnd
}

// closeParen returns the position after the ')' that closes a parenthesis opened before q (quotes honoured), or
// the end of the text.
func closeParen(t []byte, q int) int {
	quote := byte(0)
	for ; q < len(t); q++ {
		c := t[q]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ')':
			return q + 1
		}
	}
	return len(t)
}

// destinationEnd returns where the inline destination (and title) starting at q ends: after the closing ')' of
// "(dest "title")", or at the end of an unterminated one (end of the line / text).
func destinationEnd(t []byte, q int) int {
	n := len(t)
	for q < n && (t[q] == ' ' || t[q] == '\t' || t[q] == '\n') {
		q++
	}
	if q < n && t[q] == '<' {
		for q++; q < n && t[q] != '>' && t[q] != '\n'; q++ {
			if t[q] == '\\' {
				q++
			}
		}
		if q < n && t[q] == '>' {
			q++
		}
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
					return q + 1
				}
				depth--
			} else if c <= ' ' {
				break
			}
		}
	}
	// an optional title up to ')'
	for q < n && (t[q] == ' ' || t[q] == '\t' || t[q] == '\n') {
		q++
	}
	if q < n && (t[q] == '"' || t[q] == '\'' || t[q] == '(') {
		cl := t[q]
		if cl == '(' {
			cl = ')'
		}
		for q++; q < n && t[q] != cl; q++ {
			if t[q] == '\\' {
				q++
			}
		}
		q++
		for q < n && (t[q] == ' ' || t[q] == '\t') {
			q++
		}
	}
	if q < n && t[q] == ')' {
		q++
	}
	return min(q, n)
}

// definitionLine: the ']' at p (followed by ':') closes a "[label]" that starts its line (indented by at most 3
// spaces).
func definitionLine(t []byte, p int) bool {
	s := p
	for s > 0 && t[s-1] != '\n' && p-s < 1000 {
		s--
	}
	k := s
	for k < p && k-s < 3 && t[k] == ' ' {
		k++
	}
	return k < p && t[k] == '['
}

func lineEnd(t []byte, p int) int {
	for p < len(t) && t[p] != '\n' {
		p++
	}
	return p
}

func blankAfter(t []byte, a, b int) bool {
	for k := a; k < b && k < len(t); k++ {
		if !isSpace(t[k]) {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

func foldEq(b []byte, lowerS string) bool {
	if len(b) != len(lowerS) {
		return false
	}
	for k := range b {
		c := b[k]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != lowerS[k] {
			return false
		}
	}
	return true
}
