package check

import (
	"strings"

	"github.com/wasmguard/wasmguard/plugins/piimask/scan"
)

// Secrets are found by piimask's scanner (plugins/piimask/scan, the credential types only), run over windows of
// the text: a window is a line, cut at whitespace when it exceeds secretWindow bytes (a token is never cut), and
// it is scanned once, when complete. PEM private-key blocks span lines and are found by privateKey below.
//
// TODO(sdk): plugins/piimask/scan is shared by two filters now and belongs in sdk/ (e.g. sdk/pii).

const secretWindow = 256

// secretTypes are the credential types of piimask's scanner except PrivateKey (multi-line; see privateKey).
func secretTypes() scan.TypeSet {
	var ts scan.TypeSet
	for _, t := range scan.AllTypes() {
		if t.IsSecret() && t != scan.PrivateKey {
			ts = ts.With(t)
		}
	}
	return ts
}

// secretWin scans the window starting at p (a window start) with piimask's scanner.
func (s *scanner) secretWin(p int) bool {
	t := s.text
	e := p
	for e < len(t) && t[e] != '\n' && e-p < secretWindow {
		e++
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
		if placeholder(t[p+m.Start : p+m.End]) {
			continue // documentation examples (AKIAIOSFODNN7EXAMPLE) and masks are common in answers
		}
		typ := strings.ToLower(m.Name())
		s.add(Finding{Check: CheckSecret, Type: typ, Start: p + m.Start, End: p + m.End, Score: 1,
			Replace: "[REDACTED:" + typ + "]", CanRedact: true})
	}
	return true
}

type secretRule struct {
	prefix   string // case-sensitive literal prefix
	typ      string
	minBody  int // minimum length of the token after the prefix
	maxBody  int // 0: unbounded (up to the token cap)
	bodyKind byte
}

const (
	bodyAlnum      = 'a' // [A-Za-z0-9]
	bodyToken      = 't' // [A-Za-z0-9_-]
	bodyUpperAlnum = 'u' // [A-Z0-9]
)

var secretRules = []secretRule{
	{"AKIA", "aws_access_key", 16, 16, bodyUpperAlnum},
	{"ASIA", "aws_access_key", 16, 16, bodyUpperAlnum},
	{"ghp_", "github_token", 36, 36, bodyAlnum},
	{"gho_", "github_token", 36, 36, bodyAlnum},
	{"ghu_", "github_token", 36, 36, bodyAlnum},
	{"ghs_", "github_token", 36, 36, bodyAlnum},
	{"ghr_", "github_token", 36, 36, bodyAlnum},
	{"github_pat_", "github_token", 70, 0, bodyToken},
	{"glpat-", "gitlab_token", 20, 0, bodyToken},
	{"sk-ant-", "anthropic_api_key", 40, 0, bodyToken},
	{"sk-proj-", "openai_api_key", 40, 0, bodyToken},
	{"sk-svcacct-", "openai_api_key", 40, 0, bodyToken},
	{"sk-", "openai_api_key", 32, 0, bodyToken},
	{"sk_live_", "stripe_key", 20, 0, bodyAlnum},
	{"rk_live_", "stripe_key", 20, 0, bodyAlnum},
	{"sk_test_", "stripe_key", 20, 0, bodyAlnum},
	{"xoxb-", "slack_token", 20, 0, bodyToken},
	{"xoxp-", "slack_token", 20, 0, bodyToken},
	{"xoxa-", "slack_token", 20, 0, bodyToken},
	{"xoxr-", "slack_token", 20, 0, bodyToken},
	{"xoxs-", "slack_token", 20, 0, bodyToken},
	{"AIza", "google_api_key", 35, 35, bodyToken},
	{"hf_", "huggingface_token", 34, 34, bodyAlnum},
	{"npm_", "npm_token", 36, 36, bodyAlnum},
	{"SG.", "sendgrid_key", 60, 0, bodyToken}, // SG.<22>.<43>, '.' handled below
	{"eyJ", "jwt", 30, 0, bodyToken},          // header.payload.signature, checked below
}

var secretFirst [256]bool

func init() {
	// pure data initialiser
	for _, r := range secretRules {
		secretFirst[r.prefix[0]] = true
	}
	secretFirst['-'] = true
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
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

func bodyOK(b []byte, kind byte) bool {
	digits, letters := 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'Z':
			letters++
		case c >= 'a' && c <= 'z':
			if kind == bodyUpperAlnum {
				return false
			}
			letters++
		case c == '_' || c == '-':
			if kind != bodyToken {
				return false
			}
		default:
			return false
		}
	}
	// a real key mixes digits and letters; words-with-dashes ("sk-learn-is-a-python-library") do not
	return digits > 0 && letters > 0
}

// placeholder reports visibly fake values (documentation examples, masks).
func placeholder(b []byte) bool {
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

func validJWT(tok []byte) bool {
	parts := strings.Split(string(tok), ".")
	if len(parts) != 3 || len(parts[0]) < 10 || len(parts[1]) < 10 || len(parts[2]) < 16 {
		return false
	}
	return strings.HasPrefix(parts[1], "eyJ")
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
