// Package render reads text the way a markdown renderer and a browser read it, for the filters that judge or
// rewrite what a client will render: it decodes a link destination or attribute value as they do (HTML character
// references, CommonMark backslash escapes, percent-encoding, the tab/newline a URL parser strips) and tells
// whether a position of a text lies inside a link construct (a markdown destination or reference definition, an
// HTML tag or autolink, a bare URL, a CSS url()).
//
// outputguard judges decoded URLs with it; piimask uses InLink to never restore a placeholder where the client's
// renderer would send the value to a server. The package is pure and allocation-light (it runs inside wasm).
package render

// Mode selects the decodings Decode applies.
type Mode uint8

// The decodings, applied in this order: character references and backslash escapes in one left-to-right pass
// (as CommonMark does: "\&amp;" is a literal "&amp;"), then percent-encoding.
const (
	Entities  Mode = 1 << iota // HTML character references: named (those that stand for ASCII) and numeric
	Backslash                  // CommonMark backslash escapes of ASCII punctuation
	Percent                    // %XX
	// StripTabs drops tab, CR and LF and trims leading/trailing C0 controls and spaces, as the WHATWG URL
	// parser does before it reads a URL.
	StripTabs
)

// URL is the decoding of a link destination in markdown or of a URL-valued HTML attribute, the way the renderer
// and then the browser read it (a superset: decoding only reveals, so a judge sees at least what they do).
const URL = Entities | Backslash | StripTabs

// Decode appends the decoding of src to dst. It never fails: what is not a valid reference stays as it is.
func Decode(dst, src []byte, m Mode) []byte {
	start := len(dst)
	if m&(Entities|Backslash) != 0 {
		for i := 0; i < len(src); {
			c := src[i]
			if c == '\\' && m&Backslash != 0 && i+1 < len(src) && isASCIIPunct(src[i+1]) {
				dst = append(dst, src[i+1])
				i += 2
				continue
			}
			if c == '&' && m&Entities != 0 {
				if r, w := CharRef(src, i); w > 0 {
					dst = appendRune(dst, r)
					i += w
					continue
				}
			}
			dst = append(dst, c)
			i++
		}
	} else {
		dst = append(dst, src...)
	}
	if m&Percent != 0 {
		dst = dst[:start+percentDecodeInPlace(dst[start:])]
	}
	if m&StripTabs != 0 {
		dst = dst[:start+stripTabs(dst[start:])]
	}
	return dst
}

// percentDecodeInPlace decodes %XX in b (the result is never longer) and returns the new length.
func percentDecodeInPlace(b []byte) int {
	w := 0
	for r := 0; r < len(b); r++ {
		c := b[r]
		if c == '%' && r+2 < len(b) && isHex(b[r+1]) && isHex(b[r+2]) {
			c = unhex(b[r+1])<<4 | unhex(b[r+2])
			r += 2
		}
		b[w] = c
		w++
	}
	return w
}

func stripTabs(b []byte) int {
	lo, hi := 0, len(b)
	for lo < hi && b[lo] <= ' ' {
		lo++
	}
	for hi > lo && b[hi-1] <= ' ' {
		hi--
	}
	w := 0
	for r := lo; r < hi; r++ {
		if c := b[r]; c != '\t' && c != '\n' && c != '\r' {
			b[w] = c
			w++
		}
	}
	return w
}

// CharRef decodes the character reference at src[i] ('&'): numeric (&#58; &#x3A;, any number of leading zeros,
// the ';' optional as browsers accept it) or named. Named references are those of HTML that stand for an ASCII
// character (&colon; &sol; &period; &commat; ...; case-sensitive, ';' required except for the legacy amp, lt,
// gt and quot) and &nbsp;. w is the bytes consumed; 0 means no reference (a cut-off reference at the end of src
// included).
func CharRef(src []byte, i int) (r rune, w int) {
	j := i + 1
	if j >= len(src) {
		return 0, 0
	}
	if src[j] == '#' {
		j++
		hex := j < len(src) && (src[j] == 'x' || src[j] == 'X')
		if hex {
			j++
		}
		ds := j
		v := 0
		for j < len(src) {
			c := src[j]
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case hex && c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case hex && c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			if hex {
				v = v*16 + d
			} else {
				v = v*10 + d
			}
			if v > 0x10FFFF {
				v = 0x110000 // stays out of range whatever follows
			}
			j++
		}
		if j == ds {
			return 0, 0
		}
		if j < len(src) && src[j] == ';' {
			j++
		}
		if v == 0 || v > 0x10FFFF || v >= 0xD800 && v <= 0xDFFF {
			v = 0xFFFD
		}
		return rune(v), j - i
	}
	ns := j
	for j < len(src) && j-ns < maxEntityName && (src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z') {
		j++
	}
	name := src[ns:j]
	semi := j < len(src) && src[j] == ';'
	r, ok := namedRefs[string(name)]
	if !ok {
		return 0, 0
	}
	if semi {
		return r, j + 1 - i
	}
	switch string(name) {
	case "amp", "AMP", "lt", "LT", "gt", "GT", "quot", "QUOT", "nbsp":
		return r, j - i
	}
	return 0, 0
}

const maxEntityName = 16

// namedRefs are the HTML named character references that stand for an ASCII character (the complete set of
// them), plus nbsp.
var namedRefs = map[string]rune{
	"Tab": '\t', "NewLine": '\n', "excl": '!', "quot": '"', "QUOT": '"', "num": '#', "dollar": '$',
	"percnt": '%', "amp": '&', "AMP": '&', "apos": '\'', "lpar": '(', "rpar": ')', "ast": '*', "midast": '*',
	"plus": '+', "comma": ',', "period": '.', "sol": '/', "colon": ':', "semi": ';', "lt": '<', "LT": '<',
	"equals": '=', "gt": '>', "GT": '>', "quest": '?', "commat": '@', "lsqb": '[', "lbrack": '[', "bsol": '\\',
	"rsqb": ']', "rbrack": ']', "Hat": '^', "lowbar": '_', "UnderBar": '_', "grave": '`',
	"DiacriticalGrave": '`', "lcub": '{', "lbrace": '{', "verbar": '|', "vert": '|', "VerticalLine": '|',
	"rcub": '}', "rbrace": '}', "nbsp": 0xA0,
}

func appendRune(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r)&0x3F)
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	default:
		return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12)&0x3F, 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	}
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
