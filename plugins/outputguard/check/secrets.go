package check

import (
	"bytes"
	"strings"

	"github.com/wasmguard/wasmguard/sdk/pii"
)

// Secrets are found by piimask's scanner (sdk/pii, the credential types only), run over windows of
// the text: a window is a line, cut at whitespace when it exceeds secretWindow bytes (a token is never cut), and
// it is scanned once, when complete. PEM private-key blocks span lines and are found by privateKey below.

const secretWindow = 256

// secretTypes are the credential types of piimask's scanner except PrivateKey (multi-line; see privateKey).
func secretTypes() pii.TypeSet {
	var ts pii.TypeSet
	for _, t := range pii.AllTypes() {
		if t.IsSecret() && t != pii.PrivateKey {
			ts = ts.With(t)
		}
	}
	return ts
}

// secretWin scans the window starting at p (a window start) with piimask's scanner.
func (s *scanner) secretWin(p int) bool {
	t := s.text
	e := min(len(t), p+secretWindow)
	from := p
	if s.nlFrom == p && s.nlTo > p {
		from = min(s.nlTo, e) // a stream waiting for the line: the bytes searched by the last push hold no newline
	}
	if i := bytes.IndexByte(t[from:e], '\n'); i >= 0 {
		e = from + i // (bytes.IndexByte is assembly natively and in wasm)
	} else {
		s.nlFrom, s.nlTo = p, e
	}
	if e < len(t) && t[e] == '\n' {
		e++
	} else if e-p >= secretWindow {
		// too long for one window: cut after the last whitespace, or extend to the end of the token
		cut := -1
		for q := e - 1; q > p; q-- {
			if isSpace(t[q]) {
				cut = q + 1
				break
			}
		}
		if cut < 0 {
			for e < len(t) && !isSpace(t[e]) && e-p < s.k.maxConstruct {
				e++
			}
			if e >= len(t) && s.more(p, e) {
				return false
			}
			cut = e
		}
		e = cut
	} else if s.more(p, e) {
		return false // the line is not complete yet
	}
	if e <= p {
		e = p + 1
	}
	s.secretNext = e
	s.matches = s.k.secrets.Scan(t[p:e], s.matches[:0])
	for _, m := range s.matches {
		if fakeValue(t[p+m.Start : p+m.End]) {
			continue // documentation examples (AKIAIOSFODNN7EXAMPLE) and masks are common in answers
		}
		typ := strings.ToLower(m.Name())
		s.add(Finding{Check: CheckSecret, Type: typ, Start: p + m.Start, End: p + m.End, Score: 1,
			Replace: "[REDACTED:" + typ + "]", CanRedact: true})
	}
	return true
}

// secret runs the secret checks at p: a PEM private key starting here, then the window starting here.
func (s *scanner) secret(p int) bool {
	t := s.text
	if t[p] == '-' && p >= s.secretUntil && s.stage2 == 0 {
		if !s.privateKey(p) {
			return false
		}
	}
	s.stage2 = 1
	if p != s.secretNext || p < s.secretUntil {
		if p == s.secretNext {
			s.secretNext = s.secretUntil
		}
		return true
	}
	return s.secretWin(p)
}

// fakeValue reports visibly fake values (documentation examples, masks).
func fakeValue(b []byte) bool {
	s := string(b)
	if strings.Contains(s, "EXAMPLE") || strings.Contains(s, "example") {
		return true
	}
	run := 1
	for i := 1; i < len(b); i++ {
		if b[i] == b[i-1] {
			run++
			if run >= 8 {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// privateKey checks for a PEM private key block at p ("-----BEGIN ... PRIVATE KEY-----"); the finding spans the
// whole block when its END line is present.
func (s *scanner) privateKey(p int) bool {
	t := s.text
	m, partial := hasPrefixFold(t, p, "-----begin ")
	if !m {
		return !(partial && s.more(p, len(t)))
	}
	q := p + len("-----begin ")
	for q < len(t) && t[q] != '\n' && q-p < 80 {
		q++
	}
	if q >= len(t) && s.more(p, q) {
		return false
	}
	head := strings.ToUpper(string(t[p:q]))
	if !strings.Contains(head, "PRIVATE KEY") || !strings.HasSuffix(strings.TrimSpace(head), "-----") {
		return true
	}
	end := -1
	for r := q; r+8 < len(t) && r-p < s.k.maxConstruct; r++ {
		if t[r] == '-' && string(t[r:r+9]) == "-----END " {
			e := r + 9
			for e < len(t) && t[e] != '\n' && e-r < 80 {
				e++
			}
			if e >= len(t) && s.more(p, e) {
				return false
			}
			end = e
			break
		}
	}
	if end < 0 {
		if s.more(p, len(t)) {
			return false
		}
		end = min(len(t), p+s.k.maxConstruct)
	}
	// a header alone (a model explaining PEM format) is not a leak: require key material
	if end-q < 64 {
		return true
	}
	s.add(Finding{Check: CheckSecret, Type: "private_key", Start: p, End: end, Score: 1, Replace: "[REDACTED:private_key]", CanRedact: true})
	s.secretUntil = end
	if s.secretNext < end {
		s.secretNext = end
	}
	return true
}
