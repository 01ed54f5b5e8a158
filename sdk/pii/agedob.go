package pii

import (
	"encoding/binary"
	"math/bits"

	"github.com/wasmguard/wasmguard/sdk/swar"
)

// DATE_OF_BIRTH and AGE are found by rules over the words around a date or a number: a date is a date of birth
// when the words before it say so ("born on 12 March 1984", "DOB: 1984-03-12", "date of birth. It's
// 3/23/1940", "geboren am 12. März 1984", "né le 12 mars 1984"), a number is an age when the words around it
// say so ("34 years old", "a 34-year-old", "31 y/o", "age: 34", "aged 34", "at the age of 61", "I'll turn
// 23.", "when he was 78.", "j'ai 34 ans", "34 Jahre alt"). A date or a number alone is not personal data and
// is not reported. The pass runs after the byte scanner and before the tagger (a span a rule already reported
// is left to it; the tagger's spans that overlap these are dropped): only digit runs start work, found eight
// bytes at a time.

// word classes (bit flags) of the context words
const (
	wBirth     = 1 << iota // the date after it is a date of birth: born, birth, dob, birthday, geboren, ...
	wBorn                  // "born" and its translations: a year or a month and year alone is enough after it
	wFiller                // may stand between a birth word and the date: on, is, it's, the, date, ...
	wAge                   // age, aged: the number after it is an age
	wOf                    // of, von, de, di: "age of 61"
	wTurn                  // turn, turned, turning, turns
	wPronoun               // i, he, she, you, we, they
	wBe                    // am, is, are, was, were
	wPronounBe             // i'm, he's, she's, you're, we're, they're
	wYears                 // years, year, yrs, yr, months, month, weeks: "34 years old"
	wOld                   // old, alt, oud, gammal: the word after wYears
	wYO                    // yo, y/o and y.o. (read as "y" + "o"), -year-old: an age on its own after a number
	wHave                  // j'ai, tengo, ho: "j'ai 34 ans"
	wAns                   // ans, años, anni: years of age after a wHave word
	wEnd                   // today, now, this, next, soon, tomorrow: may follow "I'll turn 23"
)

// ctxWord returns the context flags of a lower-cased word (0 for any other word). A switch, not a map: TinyGo
// builds a map literal at start-up inside _initialize, whose frame then overflowed WAMR's operand stack in the
// combined module (e2e/realhost); a switch is code, with nothing to build.
func ctxWord(w string) uint16 {
	switch w {
	case "born", "geboren", "geb", "né", "née", "nacido", "nacida", "nato", "nata", "född":
		return wBirth | wBorn
	case "birth", "dob", "birthday", "birthdate", "bday", "b-day", "geburtsdatum", "geburtstag", "naissance", "nacimiento", "nascita", "geboortedatum", "födelsedatum":
		return wBirth
	case "on", "in", "it's", "its", "it", "the", "at", "my", "his", "her", "their", "your", "our", "date", "day", "le", "el", "il", "en", "op", "den", "der", "ist", "war", "del", "du":
		return wFiller
	case "is", "was", "am":
		return wFiller | wBe
	case "of", "von", "di":
		return wOf
	case "de":
		return wOf | wFiller
	case "age", "aged", "alter", "edad", "âge", "età", "leeftijd", "ålder", "âgé", "âgée":
		return wAge
	case "turn", "turned", "turning", "turns":
		return wTurn
	case "i", "he", "she", "you", "we", "they":
		return wPronoun
	case "are", "were":
		return wBe
	case "i'm", "he's", "she's", "you're", "we're", "they're":
		return wPronounBe
	case "im":
		return wFiller | wPronounBe
	case "years", "year", "yrs", "yr", "months", "month", "weeks", "jahre", "jaar", "år":
		return wYears
	case "old", "alt", "oud", "gammal", "gammel":
		return wOld
	case "yo", "jährig", "jährige", "jähriger", "jarige":
		return wYO
	case "j'ai", "tengo", "ho", "tiene", "tienes":
		return wHave
	case "ans", "años", "anni":
		return wAns
	case "today", "now", "this", "next", "soon", "tomorrow":
		return wEnd
	}
	return 0
}

// monthOf maps month names and abbreviations (English, German, French, Spanish, Italian, Dutch) to 1-12.
func monthOf(w string) uint8 {
	switch w {
	case "january", "jan", "januar", "janvier", "enero", "gennaio", "januari":
		return 1
	case "february", "feb", "februar", "février", "febrero", "febbraio", "februari":
		return 2
	case "march", "mar", "märz", "mars", "marzo", "maart":
		return 3
	case "april", "apr", "avril", "abril", "aprile":
		return 4
	case "may", "mai", "mayo", "maggio", "mei":
		return 5
	case "june", "jun", "juni", "juin", "junio", "giugno":
		return 6
	case "july", "jul", "juli", "juillet", "julio", "luglio":
		return 7
	case "august", "aug", "août", "agosto", "augustus":
		return 8
	case "september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre":
		return 9
	case "october", "oct", "oktober", "octobre", "octubre", "ottobre":
		return 10
	case "november", "nov", "novembre", "noviembre":
		return 11
	case "december", "dec", "dezember", "décembre", "diciembre", "dicembre":
		return 12
	}
	return 0
}

// date kinds
const (
	dateNone      = iota
	dateFull      // day, month and year
	dateDayMonth  // day and month: a birthday
	dateMonthYear // "March 1984"
	dateYear      // "1984"
)

// scanAgeDOB appends the dates of birth and ages in text that overlap no finding in dst[first:], keeping
// dst[first:] sorted by start.
func (s *Scanner) scanAgeDOB(text []byte, dst []Match, first int) []Match {
	wantDOB, wantAge := s.enabled.Has(DateOfBirth), s.enabled.Has(Age)
	if !wantDOB && !wantAge {
		return dst
	}
	rules := len(dst)
	for i := 0; i < len(text); {
		j := nextDigit(text, i)
		if j < 0 {
			break
		}
		k := j + 1
		for k < len(text) && isDigit(text[k]) {
			k++
		}
		i = k
		if j > 0 && (isAlpha(text[j-1]) || midNumber(text, j)) {
			continue // part of a word or of a longer number ("A12", "3.14", "10-15")
		}
		ds, de, kind := dateAt(text, j, k)
		var m Match
		switch {
		case kind != dateNone:
			i = de
			if !wantDOB || !birthBefore(text, ds, kind) && !birthAfter(text, de, kind) {
				continue
			}
			m = Match{Type: DateOfBirth, Start: ds, End: de}
		case wantAge && ageAt(text, j, k):
			m = Match{Type: Age, Start: j, End: k}
		default:
			continue
		}
		free := true
		for _, o := range dst[first:rules] {
			if m.Start < o.End && o.Start < m.End {
				free = false
				break
			}
		}
		if free {
			dst = append(dst, m)
		}
	}
	if len(dst) > rules && rules > first {
		ms := dst[first:]
		for i := rules - first; i < len(ms); i++ {
			for j := i; j > 0 && ms[j].Start < ms[j-1].Start; j-- {
				ms[j], ms[j-1] = ms[j-1], ms[j]
			}
		}
	}
	return dst
}

// nextDigit returns the index of the first ASCII digit in text from i, or -1; eight bytes per step.
func nextDigit(text []byte, i int) int {
	for ; i+8 <= len(text); i += 8 {
		x := binary.LittleEndian.Uint64(text[i:])
		t := x & swar.Low7
		if m := (swar.K*(127+'9'+1) - t) &^ x & (t + swar.K*(127-'0'+1)) & swar.High; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(text); i++ {
		if isDigit(text[i]) {
			return i
		}
	}
	return -1
}

// midNumber: the digit run at j continues a number ("3.14", "1,000", "10-15", "$5", "#3", "v2").
func midNumber(text []byte, j int) bool {
	c := text[j-1]
	switch c {
	case '.', ',', '/', '-', ':', '_':
		return j >= 2 && isDigit(text[j-2])
	case '$', '#', '+', '@', '\\':
		return true
	}
	return c >= 0x80 && !(c == 0xa0 && j >= 2 && text[j-2] == 0xc2) // a currency sign or a letter; not a no-break space
}

func num(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// digitsAt returns the end of the digit run at i (i when none).
func digitsAt(text []byte, i int) int {
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	return i
}

func validYear(y []byte) bool {
	if len(y) == 2 {
		return true
	}
	if len(y) != 4 {
		return false
	}
	v := num(y)
	return v >= 1900 && v <= 2099
}

// numberEnds: a number ends at e (no digit, and no separator followed by a digit: not part of "1.2.3.4").
func numberEnds(text []byte, e int) bool {
	if e >= len(text) {
		return true
	}
	c := text[e]
	if isDigit(c) || isAlpha(c) && !(e+1 < len(text) && (c == 'T' || c == 't') && isDigit(text[e+1])) {
		return false // "1984-03-12T10:00" is a date followed by a time
	}
	return !((c == '.' || c == '/' || c == '-' || c == ',') && e+1 < len(text) && isDigit(text[e+1]))
}

// dateAt parses a date that holds the digit run text[j:k]: numeric (12/03/1984, 3-12-84, 12.03.1984,
// 1984-03-12), day first (12 March 1984, 12th of March, 1984, 12-Mar-1984, 12. März 1984, 12 de marzo de
// 1984), month first (March 12, 1984, Mar 12th 1984), month and year (March 1984) or a year. It returns the
// span and the kind, or dateNone.
func dateAt(text []byte, j, k int) (int, int, int) {
	run := text[j:k]
	// numeric: three groups with one separator kind
	if k+1 < len(text) && (text[k] == '/' || text[k] == '-' || text[k] == '.') && isDigit(text[k+1]) {
		sep := text[k]
		k2 := digitsAt(text, k+1)
		if k2+1 < len(text) && text[k2] == sep && isDigit(text[k2+1]) {
			k3 := digitsAt(text, k2+1)
			a, b, c := run, text[k+1:k2], text[k2+1:k3]
			if len(b) <= 2 && numberEnds(text, k3) {
				if len(a) == 4 && len(c) <= 2 && validYear(a) && validDate(num(b), num(c)) {
					return j, k3, dateFull
				}
				if len(a) <= 2 && validYear(c) && (validDate(num(a), num(b)) || validDate(num(b), num(a))) {
					return j, k3, dateFull
				}
			}
		}
		return j, k, dateNone
	}
	if len(run) <= 2 && num(run) >= 1 && num(run) <= 31 {
		// day first: 12 March 1984, 12th of March, 12. März 1984, 12-Mar-84, 12 de marzo de 1984
		e := k
		if e+2 <= len(text) && ordinal(text[e:e+2]) {
			e += 2
		} else if e < len(text) && text[e] == '.' {
			e++
		}
		if mo, me := monthAfter(text, e); mo != 0 {
			ye, ok := yearAfter(text, me)
			if ok {
				return j, ye, dateFull
			}
			return j, me, dateDayMonth
		}
		// month first: March 12, 1984
		if ms := monthBefore(text, j); ms >= 0 {
			ye, ok := yearAfter(text, e)
			if ok {
				return ms, ye, dateFull
			}
			if numberEnds(text, e) {
				return ms, e, dateDayMonth
			}
		}
		return j, k, dateNone
	}
	if len(run) == 4 && validYear(run) && numberEnds(text, k) {
		if ms := monthBefore(text, j); ms >= 0 {
			return ms, k, dateMonthYear
		}
		return j, k, dateYear
	}
	return j, k, dateNone
}

func ordinal(b []byte) bool {
	x, y := lower(b[0]), lower(b[1])
	return x == 's' && y == 't' || x == 'n' && y == 'd' || x == 'r' && y == 'd' || x == 't' && y == 'h'
}

// monthAfter reads [blanks|-] [of|de] month [.] from e; it returns the month (0: none) and the end.
func monthAfter(text []byte, e int) (uint8, int) {
	for n := 0; n < 2; n++ {
		ws, we := wordAfter(text, e, true)
		if ws < 0 {
			return 0, e
		}
		var buf [16]byte
		w := lowerWord(buf[:], text[ws:we])
		if mo := monthOf(string(w)); mo != 0 {
			if we < len(text) && text[we] == '.' {
				we++
			}
			return mo, we
		}
		if f := ctxWord(string(w)); n == 0 && f&wOf != 0 {
			e = we
			continue
		}
		return 0, e
	}
	return 0, e
}

// yearAfter reads [,] blanks|- [de] year from e (a 4-digit year, or 2 digits after a dash or an apostrophe).
func yearAfter(text []byte, e int) (int, bool) {
	i := e
	if i < len(text) && text[i] == ',' {
		i++
	}
	n := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '-' || text[i] == '\'') && n < 3 {
		i++
		n++
	}
	if i+3 < len(text) && lower(text[i]) == 'd' && lower(text[i+1]) == 'e' && text[i+2] == ' ' {
		i += 3
	}
	if n == 0 || i >= len(text) || !isDigit(text[i]) {
		return e, false
	}
	ye := digitsAt(text, i)
	y := text[i:ye]
	if !numberEnds(text, ye) || len(y) == 4 && !validYear(y) || len(y) == 2 && text[i-1] != '-' && text[i-1] != '\'' || len(y) != 2 && len(y) != 4 {
		return e, false
	}
	return ye, true
}

// monthBefore: a month name (optionally abbreviated with '.') stands right before the number at j, separated
// by blanks; it returns its start or -1.
func monthBefore(text []byte, j int) int {
	i := j
	for i > 0 && text[i-1] == ' ' {
		i--
	}
	if i == j {
		return -1
	}
	if i > 0 && text[i-1] == '.' {
		i--
	}
	ws, we := wordBefore(text, i)
	if ws < 0 || we != i {
		return -1
	}
	var buf [16]byte
	if monthOf(string(lowerWord(buf[:], text[ws:we]))) == 0 {
		return -1
	}
	return ws
}

// isWordByte: ASCII letters and every byte of a non-ASCII rune (letters of other scripts, accents).
func isWordByte(c byte) bool { return isAlpha(c) || c >= 0x80 }

// gap bytes between context words and the value
func isGap(c byte) bool {
	switch c {
	case ' ', '\t', ':', '=', '-', ',', '.', '(', ')', '"', '*', '|', '#', '[', ']', '\n', '\r', '>', '_':
		return true
	}
	return false
}

// wordAfter returns the word after e, skipping blanks (and '-' when dash): letters with inner apostrophes or
// slashes ("it's", "y/o"); -1 when the next non-blank is not a letter.
func wordAfter(text []byte, e int, dash bool) (int, int) {
	i := e
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || dash && text[i] == '-') {
		i++
	}
	if i >= len(text) || !isWordByte(text[i]) || text[i] == 0xc2 && i+1 < len(text) && text[i+1] == 0xa0 {
		return -1, -1
	}
	ws := i
	for i < len(text) && (isWordByte(text[i]) || (text[i] == '\'' || (text[i] == '/' || text[i] == '.') && i-ws == 1) && i+1 < len(text) && isAlpha(text[i+1])) {
		if text[i] == 0xc2 && i+1 < len(text) && text[i+1] == 0xa0 {
			break
		}
		i++
	}
	return ws, i
}

// wordBefore returns the word that ends at i (letters with an inner apostrophe), or -1.
func wordBefore(text []byte, i int) (int, int) {
	we := i
	for i > 0 && (isWordByte(text[i-1]) || text[i-1] == '\'' && i >= 2 && isAlpha(text[i-2]) && i < we) {
		i--
	}
	if i == we {
		return -1, -1
	}
	return i, we
}

// lowerWord writes w lower-cased (ASCII) into buf, the right single quote as an apostrophe; nil when it does not fit.
func lowerWord(buf []byte, w []byte) []byte {
	n := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == 0xe2 && i+2 < len(w) && w[i+1] == 0x80 && w[i+2] == 0x99 {
			c = '\''
			i += 2
		}
		if n == len(buf) {
			return nil
		}
		buf[n] = lower(c)
		n++
	}
	return buf[:n]
}

// birthBefore: the words before the date at ds say it is a date of birth: a birth word with at most four
// filler words, blanks and punctuation between ("born on", "date of birth: ", "date of birth. It's ", "DOB ",
// "Birth date - "), within 64 bytes and one line break. A year or a month and year alone needs "born".
func birthBefore(text []byte, ds, kind int) bool {
	i, fillers, nl := ds, 0, 0
	for i > 0 && ds-i < 64 {
		c := text[i-1]
		if isGap(c) || c == '\'' {
			if c == '\n' {
				nl++
				if nl > 1 {
					return false
				}
			}
			i--
			continue
		}
		ws, we := wordBefore(text, i)
		if ws < 0 {
			return false
		}
		var buf [16]byte
		w := lowerWord(buf[:], text[ws:we])
		f := ctxWord(string(w))
		if f&wBirth != 0 || string(w) == "b" && ws >= 4 && lower(text[ws-2]) == 'o' && lower(text[ws-4]) == 'd' {
			return kind == dateFull || kind == dateDayMonth || f&wBorn != 0
		}
		if f&wFiller == 0 || fillers == 4 {
			return false
		}
		fillers++
		i = ws
	}
	return false
}

// birthAfter: the words after a full date or a day and month say it is a date of birth: at most three filler
// or capitalised words, then a birth word ("12 March 1984 is my birthday", "am 12.03.1984 in Köln geboren").
func birthAfter(text []byte, de, kind int) bool {
	if kind != dateFull && kind != dateDayMonth {
		return false
	}
	i := de
	for n := 0; n < 4; n++ {
		for i < len(text) && (text[i] == ' ' || text[i] == ',' || text[i] == '\t') {
			i++
		}
		ws, we := wordAfter(text, i, false)
		if ws < 0 {
			return false
		}
		var buf [16]byte
		f := ctxWord(string(lowerWord(buf[:], text[ws:we])))
		if f&wBirth != 0 {
			return true
		}
		if f&wFiller == 0 && !isUpper(text[ws]) || n == 3 {
			return false
		}
		i = we
	}
	return false
}

// ageAt: the number text[j:k] (1-130) is an age by the words around it.
func ageAt(text []byte, j, k int) bool {
	if k-j > 3 || text[j] == '0' {
		return false
	}
	if v := num(text[j:k]); v < 1 || v > 130 || !numberEnds(text, k) {
		return false
	}
	if k < len(text) && (text[k] == '%' || text[k] == '/' || text[k] == '\'') {
		return false // 34%, 3/4, 90's
	}
	// after the number
	var buf [16]byte
	a1 := uint16(0)
	ws, we := wordAfter(text, k, true)
	if ws >= 0 {
		w := lowerWord(buf[:], text[ws:we])
		a1 = ctxWord(string(w))
		switch string(w) {
		case "y/o", "y.o":
			return true
		}
		if a1&wYO != 0 {
			return true
		}
		if a1&wYears != 0 {
			ws2, we2 := wordAfter(text, we, true)
			if ws2 >= 0 {
				w2 := lowerWord(buf[:], text[ws2:we2])
				if ctxWord(string(w2))&wOld != 0 || string(w2) == "of" && hasWordAfter(text, we2, "age") {
					return true
				}
			}
		}
	}
	// before the number
	i := j
	for i > 0 && (text[i-1] == ' ' || text[i-1] == ':' || text[i-1] == '=' || text[i-1] == '\t') && j-i < 4 {
		i--
	}
	ps, pe := wordBefore(text, i)
	if ps < 0 {
		return false
	}
	p := ctxWord(string(lowerWord(buf[:], text[ps:pe])))
	end := ws < 0 && sentenceEnd(text, k) // nothing but punctuation or the end after the number
	switch {
	case p&wAge != 0:
		return ws < 0 || !unitWord(text[ws:we])
	case p&wOf != 0:
		qe := skipBlanksBack(text, ps)
		qs, _ := wordBefore(text, qe)
		return qs >= 0 && ctxWord(string(lowerWord(buf[:], text[qs:qe])))&wAge != 0 && (ws < 0 || !unitWord(text[ws:we]))
	case p&wTurn != 0:
		return end || a1&(wYears|wEnd) != 0
	case p&wPronounBe != 0:
		return end
	case p&wBe != 0:
		qe := skipBlanksBack(text, ps)
		qs, _ := wordBefore(text, qe)
		return end && qs >= 0 && ctxWord(string(lowerWord(buf[:], text[qs:qe])))&wPronoun != 0
	case p&wHave != 0:
		return a1&wAns != 0
	}
	return false
}

func skipBlanksBack(text []byte, i int) int {
	for i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
		i--
	}
	return i
}

func hasWordAfter(text []byte, e int, want string) bool {
	ws, we := wordAfter(text, e, false)
	var buf [16]byte
	return ws >= 0 && string(lowerWord(buf[:], text[ws:we])) == want
}

// sentenceEnd: after the number at k come only blanks and one of . , ; ! ? ) or the end of the text or line.
func sentenceEnd(text []byte, k int) bool {
	for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
		k++
	}
	if k >= len(text) {
		return true
	}
	switch text[k] {
	case '.', ',', ';', '!', '?', ')', '\n', '\r', '"':
		return true
	}
	return false
}

// unitWord: a word after "age N" that makes N something else than an age ("age 3 billion years").
func unitWord(w []byte) bool {
	var buf [16]byte
	switch string(lowerWord(buf[:], w)) {
	case "billion", "million", "thousand", "hundred", "percent", "bn", "m", "k", "days", "hours", "minutes", "seconds":
		return true
	}
	return false
}
