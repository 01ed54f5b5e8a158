package pii

import (
	"math/bits"
	"regexp"
	"unsafe"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// Custom is a user-defined entity: a regular expression (compiled once by the caller) or a dictionary of
// whole words matched case-insensitively.
type Custom struct {
	Name    string
	Pattern *regexp.Regexp
	Words   []string
	Secret  bool
}

// Scanner finds entities of the enabled types. It is immutable after New and safe to reuse; Scan does not
// allocate beyond growing dst.
type Scanner struct {
	enabled TypeSet
	custom  []Custom
}

// New returns a scanner for the given types plus custom entities.
// Dictionary words are matched case-insensitively (ASCII folding) as whole words.
func New(enabled TypeSet, custom []Custom) *Scanner {
	cs := make([]Custom, len(custom))
	for i, c := range custom {
		cs[i] = c
		cs[i].Words = make([]string, 0, len(c.Words))
		for _, w := range c.Words {
			b := []byte(w)
			for k := range b {
				b[k] = lower(b[k])
			}
			if len(b) > 0 {
				cs[i].Words = append(cs[i].Words, string(b))
			}
		}
	}
	return &Scanner{enabled: enabled, custom: cs}
}

// Enabled returns the set of built-in types the scanner reports.
func (s *Scanner) Enabled() TypeSet { return s.enabled }

// MaxEntityLen is the longest entity the built-in detectors report, except PEM private keys (up to
// MaxPEMLen). A streaming caller that holds back this many bytes never splits a built-in entity.
const MaxEntityLen = 256

// RightContext is how far past a value's end the detectors read to decide it: the secret scorer's line features
// (80 bytes of the line after the value), the tagger's two following words, a date of birth's birth word after
// the date (three filler words at most), a phone's label. A streaming masker must hold this much text after a
// candidate before it lets the candidate go (plugins/piimask/mask.Streamer): with less, text that arrives later
// could turn the candidate into a finding after it went out in clear.
const RightContext = 80

// MaxPEMLen bounds a PEM private key block.
const MaxPEMLen = 16 << 10

// ScanString is Scan over a string without copying it.
func (s *Scanner) ScanString(text string, dst []Match) []Match {
	if len(text) == 0 {
		return dst
	}
	return s.Scan(unsafe.Slice(unsafe.StringData(text), len(text)), dst)
}

// byte classes
const (
	kNone = iota
	kDigit
	kLetter
	kPlus
	kParen
	kAt
	kAssign
	kDash
	kDollar
)

var (
	class   [256]uint8
	wordTab [256]bool
	quiet   [256]bool // bytes the scan loop skips without a look
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case isDigit(b):
			class[c] = kDigit
		case isAlpha(b):
			class[c] = kLetter
		}
		wordTab[c] = isAlnum(b) || b == '_'
	}
	class['+'] = kPlus
	class['('] = kParen
	class['@'] = kAt
	class['='] = kAssign
	class[':'] = kAssign
	class['-'] = kDash
	class['$'] = kDollar
	for c := 0; c < 256; c++ {
		b := byte(c)
		quiet[c] = isLower(b) || (class[c] == kNone && !wordTab[c] && b != '.' && b != '~' && b != ',')
	}
}

// Scan appends the entities found in text to dst, in order and without overlaps, and returns it. Values
// written differently (invisible characters, fullwidth or other Unicode digits, e-mail addresses with at/dot
// spellings, digit groups with unusual separators, base64-wrapped) are found in a canonical view of the
// text and reported with their original span (see canon.go).
func (s *Scanner) Scan(text []byte, dst []Match) []Match {
	return s.scan(text, dst, false)
}

// Readings is for a text that is the beginning (or a window) of a longer one, as a streamer sees it. Scan
// reads the canonical view only when its cheap test finds a reason to in the text (Triggers: an at spelling,
// a long token, a non-ASCII form... anywhere), and then everywhere, so text that comes later can change how
// earlier text reads ("10.1.2.310.1.2.3020 7946 0958" reads as dot-separated digit groups only then). Readings
// returns both possible readings of text: plain (byte scanner, NER and custom entities, no canonical view)
// and canonical (the view always read). Where they agree, the reading is final whatever follows.
// triggered reports whether text itself triggers the view (Triggers, without the rune test).
func (s *Scanner) Readings(text []byte, plain, canon []Match) (_, _ []Match, triggered bool) {
	first := len(plain)
	plain, triggered = s.scanBuiltin(text, plain)
	k := len(canon)
	canon = append(canon, plain[first:]...)
	canon, _ = s.scanCanonical(text, canon, k, 0, true)
	plain = s.scanNER(text, plain, first)
	canon = s.scanNER(text, canon, k)
	if len(s.custom) > 0 {
		plain = s.scanCustom(text, plain, first)
		canon = s.scanCustom(text, canon, k)
	}
	return plain, canon, triggered
}

// Triggers reports whether Scan reads text in its canonical view. scratch is used for the byte scanner's
// findings and returned for reuse.
func (s *Scanner) Triggers(text []byte, scratch []Match) ([]Match, bool) {
	scratch, hint := s.scanBuiltin(text, scratch[:0])
	if hint {
		return scratch, true
	}
	_, changed := runeView(text)
	return scratch, changed
}

// ScanCanonical is Scan with the canonical view always read (what Scan returns for the text as part of a
// longer text that triggers the view).
func (s *Scanner) ScanCanonical(text []byte, dst []Match) []Match { return s.scan(text, dst, true) }

func (s *Scanner) scan(text []byte, dst []Match, force bool) []Match {
	first := len(dst)
	var hint bool
	dst, hint = s.scanBuiltin(text, dst)
	dst, _ = s.scanCanonical(text, dst, first, 0, hint || force)
	dst = s.scanNER(text, dst, first)
	if len(s.custom) > 0 {
		dst = s.scanCustom(text, dst, first)
	}
	return dst
}

// ScanPlain is Scan without the canonical view: the byte scanner and custom entities over the text as it is.
// Values written differently (see Scan) are missed; it exists to measure what the canonical pass costs.
func (s *Scanner) ScanPlain(text []byte, dst []Match) []Match {
	first := len(dst)
	dst, _ = s.scanBuiltin(text, dst)
	dst = s.scanNER(text, dst, first)
	if len(s.custom) > 0 {
		dst = s.scanCustom(text, dst, first)
	}
	return dst
}

// scanBuiltin is the byte scanner of the built-in types over text as it is. It also reports whether the text
// may hold a value written differently in ASCII (an at spelling, a bracket, a digit group with an unusual
// separator, an IBAN head with a dash, a long token that may be base64): only then does the canonical pass
// look for ASCII forms (canon.go). The checks sit where the scanner stops anyway, plus one trigram test (" at")
// in its word-at-a-time skip loop.
func (s *Scanner) scanBuiltin(text []byte, dst []Match) ([]Match, bool) {
	lastEnd := 0
	n := len(text)
	i := 0
	hint := false
	for i < n {
		// Fast path: lower-case letters, blanks and plain punctuation never start an entity by themselves.
		if c := text[i]; quiet[c] {
			if hintQuiet[c] && !hint {
				hint = quietHint(text, i)
			}
			i++
			// Word at a time (SWAR): 8 bytes per step while none of them can be a trigger byte, then jump
			// straight to the first candidate. No calls, one bounds check per word. A byte is flagged (high
			// bit) when it lies in one of the ranges 0x24-0x28 ($%&'(), 0x2B-0x3A (+,-./0-9:), 0x3D-0x5F
			// (=>?@A-Z[\]^_) or 0x7B-0x7F ({|}~): every byte that is not quiet, plus a few rare quiet ones
			// (which the byte loop then skips). Each range test is the "has a byte between m and n" bit trick
			// (exclusive bounds, exact per byte for bytes below 0x80; bytes from 0x80, all quiet, are never
			// flagged).
			if swar.LittleEndian {
				for i+8 <= n {
					x := *(*uint64)(unsafe.Pointer(&text[i]))
					t := x & swar.Low7
					r := ((swar.K*(127+0x29)-t)&(t+swar.K*(127-0x23)) |
						(swar.K*(127+0x3B)-t)&(t+swar.K*(127-0x2A)) |
						(swar.K*(127+0x60)-t)&(t+swar.K*(127-0x3C)) |
						(swar.K*(127+0x80)-t)&(t+swar.K*(127-0x7A))) &^ x & swar.High
					// " at" (any case) at bytes 0-5 (a blank at byte 6 or 7 makes the next word start at byte 6,
					// below): the word folded to lower case (a blank stays a blank) is compared with " at" at
					// three offsets at once and one zero-byte test finds the matches. The test may flag a byte
					// above a real match, which only costs a look.
					xl := x | swar.K*0x20
					z := (xl ^ swar.K*' ') | (xl>>8 ^ swar.K*'a') | (xl>>16 ^ swar.K*'t')
					if tri := (z - swar.K) &^ z & swar.High; tri != 0 && !hint {
						// a " at" in this word: an at spelling only with an address around it (one call per
						// " at", not a canonical pass per text)
						for tri != 0 {
							k := bits.TrailingZeros64(tri) >> 3
							tri &= tri - 1
							if atSpelling(text, i+k) {
								hint = true
								break
							}
						}
					}
					if r != 0 {
						i += bits.TrailingZeros64(r) >> 3
						break
					}
					if byte(x>>48) == ' ' || byte(x>>56) == ' ' {
						i += 6 // a " at" may straddle this word and the next: read the next from byte 6 (no call)
					} else {
						i += 8
					}
				}
			}
			continue
		}
		if text[i] == ',' {
			// "key", "value" argument pairs: define('PASSWORD', '...'), setopt(c, CURLOPT_PASSWORD, "...")
			if i > 0 && (text[i-1] == '\'' || text[i-1] == '"' || isUpper(text[i-1]) || text[i-1] == ' ' && i > 1 && (text[i-2] == '\'' || text[i-2] == '"')) {
				if m, ok := s.assignment(text, i, lastEnd); ok && m.Start >= lastEnd {
					m.Secret = m.Type.IsSecret()
					dst = append(dst, m)
					lastEnd = m.End
					i = m.End
					continue
				}
			}
			i++
			continue
		}
		c0 := text[i]
		// Inline rejections of the most common stops in prose (no calls): a sentence-ending '.', and a
		// capitalised plain word followed by a blank (neither can start an entity).
		if c0 == '.' && (i+1 >= n || text[i+1] == ' ' || text[i+1] == '\n') {
			i++
			continue
		}
		if c0 >= 'A' && c0 <= 'Z' && (i == 0 || !wordTab[text[i-1]]) {
			j := i + 1
			for j < n && text[j] >= 'a' && text[j] <= 'z' {
				j++
			}
			if j > i+1 && j < n && (text[j] == ' ' || text[j] == '\n') {
				i = j
				continue
			}
		}
		var m Match
		ok := false
		next := i + 1
		handled := false
		if i > lastEnd && isLower(text[i-1]) {
			// text[i] continues or ends a word that began with a lower-case letter
			ws := i - 1
			for ws > lastEnd && wordTab[text[ws-1]] {
				ws--
			}
			atStart := ws == 0 || !wordTab[text[ws-1]]
			c := text[i]
			if wordTab[c] {
				// upper case, digit or '_' inside the word: a mixed token (ghp_..., sk_live_..., camelCase)
				e, _ := skipLetters(text, ws)
				next = e
				if e-ws >= minB64Token {
					hint = true // base64? (base64 of text seldom holds '+' or '/', so its words are long)
				}
				handled = true
				if atStart && letterCandidate(text, ws, e, false) {
					m, ok = s.letterToken(text, ws)
				}
			} else if atStart && (c == '.' || c == '-' || c == ':') &&
				(isStem(text[ws:i+1]) || (c != '.' && allHex(text[ws:i]))) {
				m, ok = s.letterToken(text, ws)
				handled = ok
			}
		}
		if !handled {
			// Cheap rejections before the (costly in wasm) call into the detectors.
			switch class[text[i]] {
			case kNone:
				i++
				continue
			case kLetter:
				// the word is measured once here and handed to letterToken directly (dispatch would
				// measure it again)
				e, plain := skipLetters(text, i)
				if !hint && !plain && (e-i >= minB64Token || e-i >= 4 && isUpper(text[i]) && isUpper(text[i+1]) && isDigit(text[i+2]) && isDigit(text[i+3]) && digitHint(text, i, e)) {
					hint = true
				}
				if (i > 0 && wordTab[text[i-1]]) || !letterCandidate(text, i, e, plain) {
					i = e
					continue
				}
				m, ok = s.letterToken(text, i)
				next = e
				handled = true
			case kDigit:
				// short numbers that cannot start an entity, rejected inline (a call per number is costly in wasm)
				e := i + 1
				for e < n && wordTab[text[e]] {
					e++
				}
				if !hint && (e-i >= minB64Token || digitHint(text, i, e)) {
					hint = true
				}
				if e-i < 6 {
					if e >= n {
						i = e
						continue
					}
					switch text[e] {
					case '.', ':', '-', '/', ' ', '(', ')', '_':
						if e+1 < n && (isAlnum(text[e+1]) || text[e+1] == '(' || text[e+1] == ':') {
							break
						}
						i = e
						continue
					default:
						i = e
						continue
					}
				}
			}
			if !handled {
				if c := text[i]; c == '@' && !hint && atSpacedOrDots(text, i) || c == '(' && i+1 < n && (text[i+1]|0x20 == 'a' || text[i+1]|0x20 == 'd' || text[i+1] == '@' || text[i+1] == '.' || text[i+1] == ' ') && bracketForm(text, i) {
					hint = true
				}
				m, ok, next = s.dispatch(text, i, lastEnd)
			}
		}
		if ok && m.Start >= lastEnd && m.End > m.Start {
			m.Secret = m.Type.IsSecret()
			dst = append(dst, m)
			lastEnd = m.End
			i = m.End
			continue
		}
		i = next
	}
	return dst, hint
}

// hintQuiet flags the quiet bytes that can begin an ASCII form: a blank (" at ") and opening brackets.
var hintQuiet = func() (t [256]bool) {
	for _, c := range []byte(" [{<\\|\n\t") {
		t[c] = true
	}
	return t
}()

// quietHint: text[i] (a quiet byte of hintQuiet) may begin an at spelling, or separates digit groups unusually.
func quietHint(text []byte, i int) bool {
	n := len(text)
	if i+2 >= n {
		return false
	}
	c, nb := text[i], text[i+1]
	switch c {
	case ' ':
		return nb|0x20 == 'a' && text[i+2]|0x20 == 't' && atSpelling(text, i) ||
			i > 0 && isDigit(text[i-1]) && (nb == ' ' || nb == '-' || nb == '/' || nb == '.' || nb == '_' || nb == '|' || nb == '\t') && digitsNear(text, i)
	case '[', '{', '<':
		return bracketForm(text, i)
	}
	// '|', '\\', line break, tab between digits ('/' is judged with its digit word: digitHint)
	return i > 0 && isDigit(text[i-1]) && (isDigit(nb) || nb == '\r' || nb == '\n' || nb == ' ') && digitsNear(text, i)
}

// bracketForm: an at or dot spelling in brackets starts at i ("[at]", "( dot )", "{@}", "<.>").
func bracketForm(text []byte, i int) bool {
	return formAt(text, i, "at") > 0 || formAt(text, i, "dot") > 0 || formAt(text, i, "@") > 0 || formAt(text, i, ".") > 0
}

// digitsNear: the digit groups around the separator at i hold 9 digits or more, the fewest any value read
// across unusual separators has (an SSN; a phone number or card has more). "8000 / 2", a numbered list or a
// Sudoku row are not worth a canonical pass.
func digitsNear(text []byte, i int) bool {
	sep := func(c byte) bool {
		return c == ' ' || c == '-' || c == '.' || c == '/' || c == '_' || c == '|' || c == '\\' || c == '\t' || c == '\r' || c == '\n'
	}
	d := 0
	for k := i - 1; k >= 0 && i-k <= 48 && (isDigit(text[k]) || sep(text[k])); k-- {
		if isDigit(text[k]) {
			d++
		}
	}
	for k := i; k < len(text) && k-i <= 48 && (isDigit(text[k]) || sep(text[k])); k++ {
		if isDigit(text[k]) {
			d++
		}
	}
	return d >= 9
}

// atSpelling reports whether the " at" at text[p] can be the at of an e-mail address written out
// ("jane.doe at example dot com"): the word is "at" on its own, a local part ends right before it (up to
// three blanks between, as formAt allows) and a domain follows (domainAhead: two labels or more, an
// alphabetic top-level label). "look at the results", "at 5 pm" or "meet at Example Corp." are not.
func atSpelling(text []byte, p int) bool {
	if p+4 >= len(text) || text[p+3] != ' ' && text[p+3] != '\t' {
		return false // "at" must be a word of its own ("attention", "atlas" are not)
	}
	b := p
	for b > 0 && p-b < 3 && text[b-1] == ' ' {
		b--
	}
	if b == 0 || !isAlnum(text[b-1]) {
		return false
	}
	e := formAt(text, b, "at")
	if e < 0 {
		return false
	}
	d, _ := domainAhead(text, e)
	return d > 0
}

// digitHint: the digit word text[i:e] is followed by an unusual separator of digit groups, or holds '_'
// between digits, or is an IBAN head followed by a separator.
func digitHint(text []byte, i, e int) bool {
	n := len(text)
	if e+1 < n {
		c, nb := text[e], text[e+1]
		switch c {
		case '/', '|', '\\', '\t':
			// 4111/1111, 536/22/8726 (not 12/05)
			if e-i >= 3 && (isDigit(nb) && e+2 < n && isDigit(text[e+2]) || nb == ' ') {
				return digitsNear(text, e)
			}
		case '.':
			// 4111.1111 (not 3.14, 10.0.0.1, 192.168.1.1)
			if e-i >= 4 && e+4 < n && isDigit(nb) && isDigit(text[e+2]) && isDigit(text[e+3]) && isDigit(text[e+4]) {
				return digitsNear(text, e)
			}
		case '\n', '\r':
			return digitsNear(text, e)
		case ' ':
			if nb == ' ' || nb == '-' || nb == '/' || nb == '.' || nb == '_' || nb == '|' || nb == '\t' {
				return digitsNear(text, e)
			}
		case '-':
			if isUpper(text[i]) || nb == ' ' && digitsNear(text, e) {
				return true
			}
		}
	}
	for k := i + 1; k < e; k++ {
		if text[k] == '_' {
			return true
		}
	}
	return false
}

// atSpacedOrDots: the '@' at i has a blank beside it, or its domain goes on with a dot spelling
// ("jane@example dot com").
func atSpacedOrDots(text []byte, i int) bool {
	n := len(text)
	if i > 0 && text[i-1] == ' ' || i+1 < n && text[i+1] == ' ' {
		return true
	}
	e := i + 1
	for e < n && (isAlnum(text[e]) || text[e] == '.' || text[e] == '-') {
		e++
	}
	if e+1 >= n {
		return false
	}
	switch text[e] {
	case '[', '(', '{', '<':
		return true
	case ' ':
		nb := text[e+1]
		return nb|0x20 == 'd' || nb == '.' || nb == '[' || nb == '(' || nb == '{' || nb == '<'
	}
	return false
}

// dispatch tries the detectors triggered by text[i] (by byte class).
func (s *Scanner) dispatch(text []byte, i, lastEnd int) (m Match, ok bool, next int) {
	n := len(text)
	next = i + 1
	switch class[text[i]] {
	case kDigit:
		if i > 0 && wordTab[text[i-1]] {
			next = skipWord(text, i)
			break
		}
		if digitStart(text, i) {
			m, ok = s.digitToken(text, i)
		}
		if !ok {
			next = skipWord(text, i)
		}
	case kLetter:
		e, plain := skipLetters(text, i)
		next = e
		if (i > 0 && wordTab[text[i-1]]) || !letterCandidate(text, i, e, plain) {
			break
		}
		m, ok = s.letterToken(text, i)
	case kPlus:
		if s.enabled.Has(Phone) && (i == 0 || !wordTab[text[i-1]]) && i+1 < n && isDigit(text[i+1]) {
			m, ok = s.phone(text, i)
		}
	case kParen:
		if s.enabled.Has(Phone) && i+1 < n && isDigit(text[i+1]) {
			m, ok = s.phone(text, i)
		}
	case kAt:
		m, ok = s.at(text, i, lastEnd)
	case kAssign:
		if text[i] == ':' && i+1 < n && text[i+1] == ':' && (i+2 >= n || text[i+2] != '=') && (i == 0 || !wordTab[text[i-1]] && text[i-1] != ':') && s.enabled.Has(IPAddress) {
			if end := parseIPv6(text, i); end > 0 {
				return Match{Type: IPAddress, Start: i, End: end}, true, next
			}
		}
		m, ok = s.assignment(text, i, lastEnd)
	case kDash:
		if s.enabled.Has(PrivateKey) {
			m, ok = pemKey(text, i)
		}
	case kDollar:
		if s.enabled.Has(GenericSecret) && i+4 < n && isAlnum(text[i+1]) {
			if e := cryptHash(text, i); e > 0 {
				return Match{Type: GenericSecret, Start: i, End: e}, true, e
			}
		}
	}
	return m, ok, next
}

// letterCandidate is the cheap pre-filter for a word text[i:e] that starts with a letter: only long words,
// words continued by a token character (sk-..., SG., fe80::, abc8Q~), IBAN group heads (DE89) and NINO heads
// (AB 12 ...) can start an entity.
func letterCandidate(text []byte, i, e int, plain bool) bool {
	wl := e - i
	if e < len(text) {
		switch text[e] {
		case '-', '.', ':':
			// hyphenated words and sentence ends are common: only vendor prefixes and hex groups qualify
			if !plain || isStem(text[i:e+1]) || (text[e] != '.' && allHex(text[i:e])) {
				return true
			}
		case '~':
			return !plain
		case ' ':
			if wl == 4 && isUpper(text[i]) && isUpper(text[i+1]) && isDigit(text[i+2]) && isDigit(text[i+3]) {
				return true
			}
			if wl == 2 && isUpper(text[i]) && isUpper(text[i+1]) {
				return true
			}
		}
	}
	// A plain word cannot start an entity unless a token character follows (above); a short mixed word
	// followed by a password symbol (Prl23Db#@) may be a password after a keyword.
	if !plain && wl >= 5 && e < len(text) {
		switch text[e] {
		case '#', '$', '%', '^', '&', '*', '!', '@':
			return true
		}
	}
	return wl >= 9 && !plain
}

// skipLetters is skipWord that also reports whether the word is plain: lower-case letters, optionally after
// one upper-case letter (as at the start of a sentence).
func skipLetters(text []byte, i int) (int, bool) {
	plain := true
	if i < len(text) && isUpper(text[i]) && i+1 < len(text) && isLower(text[i+1]) {
		i++
	}
	for i < len(text) {
		c := text[i]
		if c >= 'a' && c <= 'z' {
			i++
			continue
		}
		if !wordTab[c] {
			break
		}
		plain = false
		i++
	}
	return i, plain
}

func skipWord(text []byte, i int) int {
	i++
	for i < len(text) && wordTab[text[i]] {
		i++
	}
	return i
}

// digitStart: a digit token may start here (not inside a dotted/dashed alphanumeric token or a number).
func digitStart(text []byte, i int) bool {
	if i < 2 {
		return true
	}
	p, pp := text[i-1], text[i-2]
	switch p {
	case '.', '-', '/', '_':
		return !isAlnum(pp)
	case ':', ',':
		return !isDigit(pp)
	}
	return true
}

// endsToken: position e ends a token (no letter/digit/underscore follows).
func endsToken(text []byte, e int) bool { return e >= len(text) || !wordTab[text[e]] }

// ---------------------------------------------------------------------------------------------------------
// digits

func (s *Scanner) digitToken(text []byte, i int) (Match, bool) {
	n := len(text)
	en := s.enabled
	// Ethereum address.
	if en.Has(Crypto) && text[i] == '0' && i+1 < n && (text[i+1] == 'x' || text[i+1] == 'X') {
		e := i + 2
		for e < n && isHex(text[e]) {
			e++
		}
		if e-i-2 == 40 && endsToken(text, e) {
			return Match{Type: Crypto, Start: i, End: e}, true
		}
		return Match{}, false
	}
	// Hex-ish networking tokens: MAC and IPv6 (e.g. 00:1A:..., 2001:db8::1).
	if en.Has(MACAddress) || en.Has(IPAddress) {
		if m, ok := s.hexNet(text, i); ok {
			return m, true
		}
	}
	if en.Has(IPAddress) {
		if e := parseIPv4(text, i); e > 0 {
			return Match{Type: IPAddress, Start: i, End: e}, true
		}
	}
	// Bitcoin base58 (starts with 1 or 3).
	if en.Has(Crypto) && (text[i] == '1' || text[i] == '3') {
		e := i
		for e < n && b58Index[text[e]] >= 0 {
			e++
		}
		if e-i >= 25 && e-i <= 35 && endsToken(text, e) && Base58CheckValid(text[i:e]) {
			return Match{Type: Crypto, Start: i, End: e}, true
		}
	}
	// Finnish HETU: ddmmyyCnnnX.
	if en.Has(FIPersonalIdentityCode) && i+11 <= n && endsToken(text, i+11) && HETUValid(text[i:i+11]) {
		return Match{Type: FIPersonalIdentityCode, Start: i, End: i + 11}, true
	}
	// Spanish NIF: 8 digits, optional dash, check letter.
	if en.Has(ESNIF) {
		var buf [9]byte
		j, k := i, 0
		for k < 8 && j < n && isDigit(text[j]) {
			buf[k] = text[j]
			k++
			j++
		}
		if k == 8 && j < n {
			if text[j] == '-' && j+1 < n {
				j++
			}
			if j < n && isUpper(text[j]) && endsToken(text, j+1) {
				buf[8] = text[j]
				if NIFValid(buf[:]) {
					return Match{Type: ESNIF, Start: i, End: j + 1}, true
				}
			}
		}
	}
	// Telegram bot token: 8-10 digit bot id, ':', 35 characters starting with AA.
	if en.Has(APIKey) {
		e := i
		for e < n && isDigit(text[e]) {
			e++
		}
		if e-i >= 8 && e-i <= 10 && hasPrefixAt(text, e, ":AA") {
			k := e + 1
			for k < n && b64url(text[k]) {
				k++
			}
			if k-e-1 == 35 {
				return Match{Type: APIKey, Start: i, End: k}, true
			}
		}
	}
	var r numRun
	r.collect(text, i)
	if r.nd == 0 {
		return Match{}, false
	}
	if !endsToken(text, r.end) {
		// only a phone number with an extension (555-123-4567x89) continues into a word
		if en.Has(Phone) && phoneExt(text, r.end) > r.end {
			return s.phoneRun(text, i, &r)
		}
		return s.tokenSecret(text, i)
	}
	d := r.d[:r.nd]
	// US SSN: 3-2-4 with one separator kind, or 9 digits after an SSN context word.
	if en.Has(USSSN) && r.nd == 9 && !r.paren {
		grouped := r.ng == 3 && r.glen[0] == 3 && r.glen[1] == 2 && r.glen[2] == 4 && r.uniform() &&
			(r.seps[1] == '-' || r.seps[1] == ' ' || r.seps[1] == '.')
		if grouped || (r.ng == 1 && hasContext(text, i, r.end, ssnWords, nil)) {
			area := atoi(d[0:3])
			group := atoi(d[3:5])
			serial := atoi(d[5:9])
			if SSNValid(area, group, serial) && !allSame(d) {
				return Match{Type: USSSN, Start: i, End: r.end}, true
			}
			if grouped && en.Has(USITIN) && ITINValid(area, group) {
				return Match{Type: USITIN, Start: i, End: r.end}, true
			}
		}
	}
	// Payment card: 12-19 digits, consistent grouping, known IIN prefix, Luhn.
	if en.Has(CreditCard) && r.nd >= 12 && r.nd <= 19 && !r.paren && r.uniform() &&
		(r.ng == 1 || r.seps[1] == ' ' || r.seps[1] == '-') && cardGrouping(&r) && cardPrefix(d) && Luhn(d) {
		return Match{Type: CreditCard, Start: i, End: r.end}, true
	}
	if en.Has(INAadhaar) && r.nd == 12 && !r.paren && (r.ng == 1 || (r.ng == 3 && r.glen[0] == 4 && r.glen[1] == 4 && r.uniform())) &&
		AadhaarValid(d) {
		return Match{Type: INAadhaar, Start: i, End: r.end}, true
	}
	if en.Has(PLPESEL) && r.nd == 11 && r.ng == 1 && PESELValid(d) {
		return Match{Type: PLPESEL, Start: i, End: r.end}, true
	}
	if m, ok := s.nationalIDs(text, i, &r); ok {
		return m, true
	}
	if en.Has(Phone) {
		if m, ok := s.phoneRun(text, i, &r); ok {
			return m, true
		}
	}
	if en.Has(CASIN) && r.nd == 9 && r.ng == 3 && r.glen[0] == 3 && r.glen[1] == 3 && r.uniform() &&
		(r.seps[1] == ' ' || r.seps[1] == '-') && CASINValid(d) {
		return Match{Type: CASIN, Start: i, End: r.end}, true
	}
	return s.tokenSecret(text, i)
}

// tokenSecret tries the detectors for unprefixed credentials at a token start.
func (s *Scanner) tokenSecret(text []byte, i int) (Match, bool) {
	if s.enabled.Has(APIKey) {
		if e := googleClientID(text, i); e > 0 {
			return Match{Type: APIKey, Start: i, End: e}, true
		}
		if e := salesforceSession(text, i); e > 0 {
			return Match{Type: APIKey, Start: i, End: e}, true
		}
	}
	if len(rulesByFirst[text[i]]) > 0 {
		if m, ok := s.prefixSecret(text, i); ok {
			return m, true
		}
	}
	if m, ok := s.moreSecrets(text, i); ok {
		return m, true
	}
	if m, ok := s.highEntropy(text, i); ok {
		return m, true
	}
	if m, ok := s.prefixedToken(text, i); ok {
		return m, true
	}
	return s.keywordValue(text, i)
}

func atoi(d []byte) int {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v
}

func allSame(d []byte) bool {
	for _, c := range d[1:] {
		if c != d[0] {
			return false
		}
	}
	return true
}

func cardGrouping(r *numRun) bool {
	if r.ng == 1 {
		return true
	}
	// 4-4-4-4(-3), 4-6-5 (Amex), 4-6-4 (Diners), 4-4-4-x.
	if r.ng == 3 && r.glen[0] == 4 && r.glen[1] == 6 && (r.glen[2] == 5 || r.glen[2] == 4) {
		return true
	}
	for k := 0; k < r.ng-1; k++ {
		if r.glen[k] != 4 {
			return false
		}
	}
	return r.glen[r.ng-1] >= 1 && r.glen[r.ng-1] <= 7
}

// cardPrefix accepts issuer identification number ranges of the major schemes.
func cardPrefix(d []byte) bool {
	p2 := atoi(d[:2])
	p4 := atoi(d[:4])
	n := len(d)
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // Amex
		return n == 15
	case p4 == 6011 || p2 == 65 || (p4 >= 6440 && p4 <= 6499): // Discover
		return n >= 16
	case p2 == 35: // JCB
		return n >= 16
	case p4 == 2131 || p4 == 1800: // JCB (15 digits)
		return n == 15
	case p2 == 36 || p2 == 38 || p2 == 39 || (p4 >= 3000 && p4 <= 3059) || p2 == 30: // Diners
		return n >= 14
	case p2 == 62: // UnionPay
		return n >= 16
	case p2 == 50 || (p2 >= 56 && p2 <= 69): // Maestro and others
		return n >= 12
	case d[0] == '2' && n == 16: // Mir 2200-2204
		return p4 >= 2200 && p4 <= 2204
	}
	return false
}

// numRun is a run of digit groups separated by single separators, as in phone and card numbers.
type numRun struct {
	d     [24]byte
	nd    int
	glen  [16]uint8
	seps  [16]byte // seps[k] is the separator before group k ('(' and ')' are recorded as 'p')
	ng    int
	end   int
	paren bool
	trunk bool // an "(0)" trunk prefix was skipped
}

func (r *numRun) uniform() bool {
	for k := 2; k < r.ng; k++ {
		if r.seps[k] != r.seps[1] {
			return false
		}
	}
	return true
}

// collect reads groups from text[i:], which starts with a digit or '('.
func (r *numRun) collect(text []byte, i int) {
	n := len(text)
	j := i
	var sep byte
	open := false
	for j < n {
		c := text[j]
		switch {
		case isDigit(c):
			if r.nd == len(r.d) {
				r.nd = 0 // too long for anything we detect
				return
			}
			if r.ng == 0 || sep != 0 {
				if r.ng == len(r.glen) {
					r.nd = 0
					return
				}
				r.seps[r.ng] = sep
				r.ng++
				sep = 0
			}
			// the whole group in a local loop: counters in registers, stored once per group
			nd, g := r.nd, r.glen[r.ng-1]
			for j < n && isDigit(text[j]) {
				if nd == len(r.d) {
					r.glen[r.ng-1], r.end, r.nd = g, j, 0 // too long for anything we detect
					return
				}
				r.d[nd] = text[j]
				nd++
				g++
				j++
			}
			r.nd, r.glen[r.ng-1], r.end = nd, g, j
			continue
		case c == '(' && !open && (r.ng == 0 || sep != 0):
			if j+2 < n && text[j+1] == '0' && text[j+2] == ')' && r.ng > 0 {
				r.trunk = true
				j += 3
				if j < n && text[j] == ' ' {
					j++
				}
				sep = 'p'
				continue
			}
			if j+1 < n && isDigit(text[j+1]) {
				open = true
				r.paren = true
				sep = 'p'
				j++
				continue
			}
		case c == ')' && open && sep == 0:
			open = false
			sep = 'p'
			j++
			if j < n && (text[j] == ' ' || text[j] == '-') {
				j++
			}
			if j < n && isDigit(text[j]) {
				continue
			}
			return
		case (c == ' ' || c == '-' || c == '.') && sep == 0 && r.ng > 0:
			if j+1 < n && (isDigit(text[j+1]) || text[j+1] == '(') {
				sep = c
				j++
				continue
			}
		}
		return
	}
}

// ---------------------------------------------------------------------------------------------------------
// phone numbers

var twoDigitCC = [100]bool{20: true, 27: true, 30: true, 31: true, 32: true, 33: true, 34: true, 36: true,
	39: true, 40: true, 41: true, 43: true, 44: true, 45: true, 46: true, 47: true, 48: true, 49: true, 51: true,
	52: true, 53: true, 54: true, 55: true, 56: true, 57: true, 58: true, 60: true, 61: true, 62: true, 63: true,
	64: true, 65: true, 66: true, 81: true, 82: true, 84: true, 86: true, 90: true, 91: true, 92: true, 93: true,
	94: true, 95: true, 98: true}

// nationalLen gives [min,max] national significant digits for country calling code cc (0 = unknown 3-digit).
func nationalLen(cc int) (int, int) {
	switch cc {
	case 1, 7:
		return 10, 10
	case 33, 34, 41, 48, 56, 93, 94:
		return 9, 9
	case 91, 90, 52, 58, 98:
		return 10, 10
	case 45, 65:
		return 8, 8
	case 31, 27, 40:
		return 9, 9
	case 44:
		return 7, 10
	case 30:
		return 10, 10
	case 49:
		return 5, 15
	case 39:
		return 6, 11
	case 43:
		return 4, 13
	}
	if cc >= 100 {
		return 4, 12
	}
	return 5, 12
}

// countryCode splits the leading country calling code off d; ok is false when d does not start with one.
func countryCode(d []byte) (cc, n int, ok bool) {
	if len(d) < 1 {
		return 0, 0, false
	}
	if d[0] == '1' || d[0] == '7' {
		return int(d[0] - '0'), 1, true
	}
	if d[0] == '0' || len(d) < 2 {
		return 0, 0, false
	}
	two := atoi(d[:2])
	if twoDigitCC[two] {
		return two, 2, true
	}
	if len(d) < 3 {
		return 0, 0, false
	}
	return atoi(d[:3]), 3, true
}

var (
	phoneWordsBefore = []string{"phone", "tel", "mobile", "mob:", "cell", "fax", "desk", "call", "contact",
		"whatsapp", "office", "landline", "sms", "dial", "reach me", "ph:", "ph.", "number:", "no.:", "telefon",
		"téléphone", "teléfono", "handy", "answering", "reach", "ring me", "text me"}
	phoneWordsAfter = []string{"office", "fax", "mobile", "home", "work", "cell", "desk", "(m)", "(o)", "(h)"}
	ssnWords        = []string{"ssn", "social security", "social sec"}
)

// phone parses a number starting with '+' or '(' at i.
func (s *Scanner) phone(text []byte, i int) (Match, bool) {
	var r numRun
	j := i
	if text[i] == '+' {
		j++
	}
	r.collect(text, j)
	if r.nd == 0 || (!endsToken(text, r.end) && phoneExt(text, r.end) == r.end) {
		return Match{}, false
	}
	if text[i] == '+' {
		return s.intlPhone(text, i, &r, r.d[:r.nd])
	}
	return s.phoneRun(text, i, &r)
}

func (s *Scanner) intlPhone(text []byte, i int, r *numRun, d []byte) (Match, bool) {
	cc, k, ok := countryCode(d)
	if !ok {
		return Match{}, false
	}
	nat := len(d) - k
	lo, hi := nationalLen(cc)
	if nat < lo || nat > hi || len(d) > 15 || (r.ng == 1 && r.glen[0] > 15) {
		return Match{}, false
	}
	// The country code must be its own group unless the number is written without separators.
	if r.ng > 1 && int(r.glen[0]) < k {
		return Match{}, false
	}
	return Match{Type: Phone, Start: i, End: phoneExt(text, r.end)}, true
}

// phoneRun validates a run that does not start with '+'.
func (s *Scanner) phoneRun(text []byte, i int, r *numRun) (Match, bool) {
	d := r.d[:r.nd]
	// International prefix 00 (or 011 from North America).
	if r.nd >= 10 && d[0] == '0' && d[1] == '0' && int(r.glen[0]) <= 3 {
		return s.intlPhone(text, i, r, d[2:])
	}
	if r.nd < 6 || r.nd > 12 {
		return Match{}, false
	}
	for k := 0; k < r.ng; k++ {
		if r.glen[k] > 12 {
			return Match{}, false
		}
	}
	// Dates and times such as 2024-01-15 or 12.05.2023 are not phone numbers.
	if looksLikeDate(r) {
		return Match{}, false
	}
	end := phoneExt(text, r.end)
	// North American 3-3-4 / (3) 3-4, optionally with a leading 1.
	g := r.glen[:r.ng]
	nanp := false
	switch {
	case r.ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4:
		nanp = d[0] >= '2'
	case r.ng == 4 && g[0] == 1 && d[0] == '1' && g[1] == 3 && g[2] == 3 && g[3] == 4:
		nanp = d[1] >= '2'
	}
	if nanp && (r.paren || r.seps[1] == r.seps[2]) {
		return Match{Type: Phone, Start: i, End: end}, true
	}
	// National format with a trunk 0 and grouping: 020 7946 0958, 06 12 34 56 78, 0341 8387176.
	if d[0] == '0' && d[1] != '0' && r.ng >= 2 && r.nd >= 9 && r.nd <= 12 {
		return Match{Type: Phone, Start: i, End: end}, true
	}
	// Contiguous national mobile numbers with a trunk 0 (07700900123, 09171234567).
	if r.ng == 1 && d[0] == '0' && d[1] != '0' && (r.nd == 10 || r.nd == 11) {
		return Match{Type: Phone, Start: i, End: end}, true
	}
	// Four or more short groups with one separator kind (532 123 45 67, 06-12-34-56-78).
	if r.ng >= 4 && r.nd >= 9 && !r.paren && r.uniform() && r.seps[1] != '.' {
		short := true
		for k := 0; k < r.ng; k++ {
			if r.glen[k] < 2 || r.glen[k] > 4 {
				short = false
			}
		}
		if short {
			return Match{Type: Phone, Start: i, End: end}, true
		}
	}
	// Anything else needs a phone word close by, and is not a house number before a street name
	// ("a taxi to 14 3684 Court Street", "offices at 6556 106 Rue Ettatawer").
	if (r.ng >= 2 || r.nd >= 7) && hasContext(text, i, end, phoneWordsBefore, phoneWordsAfter) && !streetAfter(text, end) {
		return Match{Type: Phone, Start: i, End: end}, true
	}
	return Match{}, false
}

// streetWords name a street type (English, French, Spanish, Italian, German, Dutch abbreviations included).
var streetWords = map[string]bool{}

func init() {
	for _, w := range []string{"street", "st", "lane", "ln", "road", "rd", "avenue", "ave", "av",
		"boulevard", "blvd", "drive", "dr", "court", "ct", "parkway", "pkwy", "way", "place", "pl", "square", "sq",
		"terrace", "circle", "highway", "hwy", "alley", "trail", "crescent", "close", "plaza", "rue", "via", "calle",
		"avenida", "strasse", "weg", "straat", "apt", "suite"} {
		streetWords[w] = true
	}
}

// streetAfter: one of the next three words after e (letters only, an optional '.') names a street type.
func streetAfter(text []byte, e int) bool {
	n := len(text)
	j := e
	for w := 0; w < 3; w++ {
		for j < n && (text[j] == ' ' || text[j] == '\t') {
			j++
		}
		k := j
		for k < n && isAlpha(text[k]) {
			k++
		}
		if k == j {
			return false
		}
		if isStreetWord(text[j:k]) {
			return true
		}
		j = k
		if j < n && text[j] == '.' {
			j++
		}
	}
	return false
}

func isStreetWord(w []byte) bool {
	if len(w) > 10 {
		return false
	}
	var buf [10]byte
	for k, c := range w {
		buf[k] = lower(c)
	}
	return streetWords[string(buf[:len(w)])]
}

func looksLikeDate(r *numRun) bool {
	if r.ng != 3 || r.paren {
		return false
	}
	g := r.glen
	d := r.d[:r.nd]
	sep := r.seps[1]
	if sep != r.seps[2] || sep == ' ' {
		return false
	}
	if g[0] == 4 && g[1] <= 2 && g[2] <= 2 { // yyyy-mm-dd
		return true
	}
	if g[0] <= 2 && g[1] <= 2 && (g[2] == 4 || g[2] == 2) { // dd.mm.yyyy
		_ = d
		return true
	}
	return false
}

// phoneExt extends the end over an extension such as x4587, ext. 12 or ext 12.
func phoneExt(text []byte, e int) int {
	n := len(text)
	j := e
	if j < n && text[j] == 'x' {
		j++
	} else if j+4 < n && text[j] == ' ' && (text[j+1] == 'e' || text[j+1] == 'x') {
		j++
		if text[j] == 'x' {
			j++
		} else if j+3 <= n && string(text[j:j+3]) == "ext" {
			j += 3
			if j < n && text[j] == '.' {
				j++
			}
		} else {
			return e
		}
		if j < n && text[j] == ' ' {
			j++
		}
	} else {
		return e
	}
	k := j
	for k < n && k-j < 6 && isDigit(text[k]) {
		k++
	}
	if k == j || !endsToken(text, k) {
		return e
	}
	return k
}

// hasContext looks for one of before (case-insensitive) in the 40 bytes before start, or one of after in the
// 12 bytes after end.
func hasContext(text []byte, start, end int, before, after []string) bool {
	lo := start - 40
	if lo < 0 {
		lo = 0
	}
	// Do not look across a line break: labels sit on the number's line, or alone on the line before a number
	// that starts its line ("Phone:\n555 0123").
	for k := start - 1; k >= lo; k-- {
		if text[k] == '\n' {
			lo = k + 1
			if blankOnly(text[lo:start]) && k > 0 {
				p := k - 1
				if p >= 0 && text[p] == '\r' {
					p--
				}
				if p >= 0 && text[p] == ':' {
					lo = p - 24
					if lo < 0 {
						lo = 0
					}
					for q := p; q >= lo; q-- {
						if text[q] == '\n' {
							lo = q + 1
							break
						}
					}
				}
			}
			break
		}
	}
	if containsFold(text[lo:start], before) {
		return true
	}
	hi := end + 12
	if hi > len(text) {
		hi = len(text)
	}
	for k := end; k < hi; k++ {
		if text[k] == '\n' {
			hi = k
			break
		}
	}
	return len(after) > 0 && containsFold(text[end:hi], after)
}

func blankOnly(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func containsFold(hay []byte, words []string) bool {
	for _, w := range words {
		if len(w) > len(hay) {
			continue
		}
		for k := 0; k+len(w) <= len(hay); k++ {
			if lower(hay[k]) != w[0] {
				continue
			}
			ok := true
			for q := 1; q < len(w); q++ {
				if lower(hay[k+q]) != w[q] {
					ok = false
					break
				}
			}
			if ok && (k == 0 || !isAlpha(hay[k-1])) {
				return true
			}
		}
	}
	return false
}

func lower(c byte) byte {
	if isUpper(c) {
		return c + 32
	}
	return c
}

// ---------------------------------------------------------------------------------------------------------
// network addresses

func parseIPv4(text []byte, i int) int {
	e := parseIPv4Core(text, i)
	if e == 0 {
		return 0
	}
	return cidr(text, e, 32)
}

func parseIPv4Core(text []byte, i int) int {
	n := len(text)
	j := i
	for part := 0; part < 4; part++ {
		if part > 0 {
			if j >= n || text[j] != '.' {
				return 0
			}
			j++
		}
		k := j
		v := 0
		for k < n && k-j < 3 && isDigit(text[k]) {
			v = v*10 + int(text[k]-'0')
			k++
		}
		if k == j || v > 255 || (k-j > 1 && text[j] == '0' && false) {
			return 0
		}
		j = k
	}
	if j < n && (isDigit(text[j]) || isAlpha(text[j]) || (text[j] == '.' && j+1 < n && isDigit(text[j+1]))) {
		return 0
	}
	return j
}

// cidr extends e over a "/prefix" of at most max.
func cidr(text []byte, e, max int) int {
	if e+1 < len(text) && text[e] == '/' && isDigit(text[e+1]) {
		k := e + 1
		v := 0
		for k < len(text) && k-e <= 3 && isDigit(text[k]) {
			v = v*10 + int(text[k]-'0')
			k++
		}
		if v <= max && endsToken(text, k) {
			return k
		}
	}
	return e
}

// hexNet tries a MAC address or an IPv6 address at i.
func (s *Scanner) hexNet(text []byte, i int) (Match, bool) {
	n := len(text)
	h := i
	for h < n && h-i < 5 && isHex(text[h]) {
		h++
	}
	if h >= n || h == i {
		return Match{}, false
	}
	if s.enabled.Has(MACAddress) {
		if e := parseMAC(text, i); e > 0 {
			return Match{Type: MACAddress, Start: i, End: e}, true
		}
	}
	if s.enabled.Has(IPAddress) && text[h] == ':' && (i == 0 || text[i-1] != ':') {
		// (not after a ':': "12345:db8::1" and "2001::db8::1" are no address, and neither is their tail)
		if e := parseIPv6(text, i); e > 0 {
			return Match{Type: IPAddress, Start: i, End: e}, true
		}
	}
	return Match{}, false
}

func parseMAC(text []byte, i int) int {
	n := len(text)
	if i+17 <= n && (text[i+2] == ':' || text[i+2] == '-') {
		sep := text[i+2]
		for k := 0; k < 6; k++ {
			p := i + 3*k
			if !isHex(text[p]) || !isHex(text[p+1]) || (k < 5 && text[p+2] != sep) {
				return 0
			}
		}
		e := i + 17
		if broadcastMAC(text[i:e]) {
			return 0
		}
		if e < n && (isHex(text[e]) || wordTab[text[e]] || (text[e] == sep && e+1 < n && isHex(text[e+1]))) {
			return 0
		}
		return e
	}
	if i+14 <= n && text[i+4] == '.' && text[i+9] == '.' { // Cisco 0123.4567.89ab
		for k := 0; k < 14; k++ {
			if k == 4 || k == 9 {
				continue
			}
			if !isHex(text[i+k]) {
				return 0
			}
		}
		if endsToken(text, i+14) {
			return i + 14
		}
	}
	return 0
}

// parseIPv6 returns the end of an IPv6 address (with optional %zone and /prefix) starting at i, or 0.
func parseIPv6(text []byte, i int) int {
	n := len(text)
	j := i
	groups := 0
	double := false
	lastEnd := 0 // end of the last complete group or "::"
	for j < n && groups <= 8 {
		if text[j] == ':' {
			if j+1 < n && text[j+1] == ':' {
				if double {
					break
				}
				double = true
				j += 2
				lastEnd = j
				continue
			}
			if j == i || text[j-1] == ':' {
				break
			}
			if j+1 < n && isHex(text[j+1]) {
				j++
				continue
			}
			break
		}
		k := j
		for k < n && k-j < 5 && isHex(text[k]) {
			k++
		}
		if k == j || k-j > 4 {
			break
		}
		// Embedded IPv4 in the last position.
		if k+1 < n && text[k] == '.' && isDigit(text[k+1]) && (double || groups == 6) {
			if e := parseIPv4Core(text, j); e > 0 {
				groups += 2
				return finishIPv6(text, i, e, groups, double, true)
			}
			break
		}
		groups++
		j = k
		lastEnd = k
		if j < n && text[j] != ':' {
			break
		}
	}
	return finishIPv6(text, i, lastEnd, groups, double, false)
}

func finishIPv6(text []byte, i, e, groups int, double, v4 bool) int {
	if e == 0 {
		return 0
	}
	if groups > 8 || (!double && groups != 8) || (double && groups > 7) {
		return 0
	}
	if !double && groups < 8 {
		return 0
	}
	n := len(text)
	if e < n && (isAlnum(text[e]) || text[e] == '_') {
		return 0
	}
	if e < n && (text[e] == ':' || (text[e] == '.' && e+1 < n && isAlnum(text[e+1]))) {
		return 0 // the address goes on with something invalid
	}
	if e < n && text[e] == '%' && !v4 { // zone id
		k := e + 1
		for k < n && (isAlnum(text[k]) || text[k] == '.' || text[k] == '_') {
			k++
		}
		if k > e+1 {
			e = k
		}
	}
	return cidr(text, e, 128)
}

// ---------------------------------------------------------------------------------------------------------
// '@': e-mail addresses and URL credentials

var emailLocal [256]bool

func init() {
	for c := 0; c < 256; c++ {
		emailLocal[c] = isAlnum(byte(c))
	}
	// RFC 5322 atext, less the URL delimiters '/', '?', '#', '&' and '=': an address in a URL's path or query
	// ("https://x.example/a.png?e=jane@example.com", "user=jane@example.com") starts after them, so the URL keeps
	// its host and path and only the address is masked; a local part that really holds one of them is vanishingly
	// rare, and its tail after the delimiter is still found.
	for _, c := range []byte(".!$%'*+^_`{|}~-") {
		emailLocal[c] = true
	}
}

func (s *Scanner) at(text []byte, i, lastEnd int) (Match, bool) {
	// URL credentials: scheme://user:password@host
	if s.enabled.Has(URLCredentials) {
		k := i - 1
		colon := -1
		// the user part may itself be an e-mail address (smtps://me@example.com:pw@host), already reported
		for k >= 0 && i-k < 128 && text[k] != '/' && text[k] != ' ' && text[k] != '\n' && text[k] != '"' && (colon < 0 || text[k] != ':') {
			if text[k] == ':' && colon < 0 {
				colon = k
			}
			k--
		}
		if k >= 1 && text[k] == '/' && text[k-1] == '/' && colon > k+1 && colon >= lastEnd && colon+1 < i {
			pw := text[colon+1 : i]
			if pw[0] != '$' && pw[0] != '{' && pw[0] != '<' && pw[0] != '*' && !allSame(pw) && !containsAnyFold(pw, []string{"password", "passwd"}) {
				return Match{Type: URLCredentials, Start: colon + 1, End: i}, true
			}
		}
	}
	if !s.enabled.Has(Email) {
		return Match{}, false
	}
	// local part
	st := i
	for st > lastEnd && i-st < 64 && emailLocal[text[st-1]] {
		st--
	}
	for st < i && (text[st] == '.' || !isAlnum(text[st]) && text[st] != '_') {
		st++
	}
	if st == i || text[i-1] == '.' {
		return Match{}, false
	}
	// domain
	n := len(text)
	j := i + 1
	labelStart := j
	dots := 0
	lastLabel := 0
	for j < n && j-i < 254 {
		c := text[j]
		if isAlnum(c) || c == '-' {
			j++
			continue
		}
		if c == '.' && j > labelStart && j+1 < n && isAlnum(text[j+1]) {
			if text[j-1] == '-' {
				return Match{}, false
			}
			dots++
			j++
			labelStart = j
			continue
		}
		break
	}
	lastLabel = labelStart
	if dots == 0 || j-lastLabel < 2 || text[lastLabel] == '-' || text[j-1] == '-' {
		return Match{}, false
	}
	// TLD: letters, or an IDN "xn--" label.
	tld := text[lastLabel:j]
	if !(len(tld) > 4 && string(tld[:4]) == "xn--") {
		for _, c := range tld {
			if !isAlpha(c) {
				return Match{}, false
			}
		}
	}
	return Match{Type: Email, Start: st, End: j}, true
}

// ---------------------------------------------------------------------------------------------------------
// PEM private keys

func pemKey(text []byte, i int) (Match, bool) {
	const begin = "-----BEGIN "
	n := len(text)
	if i+len(begin) > n || string(text[i:i+len(begin)]) != begin {
		return Match{}, false
	}
	// header line: -----BEGIN [A-Z ]*PRIVATE KEY[ BLOCK]-----
	j := i + len(begin)
	for j < n && j-i < 80 && (isUpper(text[j]) || text[j] == ' ') {
		j++
	}
	label := text[i+len(begin) : j]
	if !containsPrivateKey(label) || j+5 > n || string(text[j:j+5]) != "-----" {
		return Match{}, false
	}
	j += 5
	// body up to the END line, or as far as base64 goes when the END line is missing (truncated key).
	limit := i + MaxPEMLen
	if limit > n {
		limit = n
	}
	for k := j; k+9 <= limit; k++ {
		if text[k] == '-' && string(text[k:k+9]) == "-----END " {
			e := k + 9
			for e < limit && (isUpper(text[e]) || text[e] == ' ') {
				e++
			}
			if e+5 <= n && string(text[e:e+5]) == "-----" {
				return Match{Type: PrivateKey, Start: i, End: e + 5}, true
			}
			return Match{Type: PrivateKey, Start: i, End: k}, true
		}
		c := text[k]
		if !(isAlnum(c) || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\\' || c == ':' || c == '-' || c == ',') {
			return Match{Type: PrivateKey, Start: i, End: k}, true
		}
	}
	return Match{Type: PrivateKey, Start: i, End: limit}, true
}

func containsPrivateKey(label []byte) bool {
	const pk = "PRIVATE KEY"
	for k := 0; k+len(pk) <= len(label); k++ {
		if string(label[k:k+len(pk)]) == pk {
			return true
		}
	}
	return false
}

func broadcastMAC(b []byte) bool {
	for k, c := range b {
		if k%3 != 2 && c != 'F' && c != 'f' {
			return false
		}
	}
	return true
}

func allHex(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// nationalIDs tries the date-based national numbers (Sweden, Korea, South Africa) and Thailand's TNIN.
func (s *Scanner) nationalIDs(text []byte, i int, r *numRun) (Match, bool) {
	en := s.enabled
	d := r.d[:r.nd]
	// Swedish personnummer: YYYYMMDD[-]NNNN or YYMMDD-NNNN / YYMMDD+NNNN.
	if en.Has(SEPersonnummer) {
		switch {
		case r.nd == 12 && (r.ng == 1 || r.ng == 2 && r.glen[0] == 8 && r.seps[1] == '-') && (hasPrefixAt(d, 0, "19") || hasPrefixAt(d, 0, "20") || hasPrefixAt(d, 0, "18")):
			if SEPersonnummerValid(d[2:]) {
				return Match{Type: SEPersonnummer, Start: i, End: r.end}, true
			}
		case r.nd == 10 && r.ng == 2 && r.glen[0] == 6 && r.seps[1] == '-':
			if SEPersonnummerValid(d) {
				return Match{Type: SEPersonnummer, Start: i, End: r.end}, true
			}
		case r.nd == 6 && r.ng == 1 && r.end+5 <= len(text) && text[r.end] == '+':
			var buf [10]byte
			copy(buf[:], d)
			copy(buf[6:], text[r.end+1:r.end+5])
			if isDigits(buf[6:]) && endsToken(text, r.end+5) && SEPersonnummerValid(buf[:]) {
				return Match{Type: SEPersonnummer, Start: i, End: r.end + 5}, true
			}
		}
	}
	if r.nd == 13 && (r.ng == 1 || r.ng == 2 && r.glen[0] == 6 && r.seps[1] == '-') {
		if en.Has(ZAIDNumber) && r.ng == 1 && ZAIDValid(d) {
			return Match{Type: ZAIDNumber, Start: i, End: r.end}, true
		}
		if en.Has(KRRRN) && KRRRNValid(d) {
			return Match{Type: KRRRN, Start: i, End: r.end}, true
		}
		if en.Has(THTNIN) && r.ng == 1 && THTNINValid(d) {
			return Match{Type: THTNIN, Start: i, End: r.end}, true
		}
	}
	return Match{}, false
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}
