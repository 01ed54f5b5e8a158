// Package mask applies piimask's actions to the entities the scan package finds: redact ([EMAIL]), mask
// (partial: j***@example.com, **** **** **** 1111), hash (keyed, truncated: [EMAIL:3f9a2c7d1b6e]), tokenize
// (reversible placeholder [EMAIL_3F9A2C7D]) and block. It also restores placeholders in responses and does both
// on streamed text with a bounded hold-back (Streamer, Restorer).
//
// Reversible tokenization needs no shared store: a placeholder is derived from an HMAC-SHA256 of the entity
// type and value under a configured key, so the same value gets the same placeholder in every turn of a
// conversation and on every worker. The placeholder → value map (Vault) lives with one HTTP stream: the request
// fills it, the response of the same stream reads it. Secrets are never tokenized and never restored.
//
// The package is pure (no proxy-wasm import) and is tested natively.
package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/wasmguard/wasmguard/sdk/pii"
)

// Action is what happens to an entity.
type Action uint8

// Actions. Allow means detect and log only.
const (
	Allow Action = iota
	Redact
	Mask
	Hash
	Tokenize
	Block
)

var actionNames = [...]string{"allow", "redact", "mask", "hash", "tokenize", "block"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return ""
}

// ParseAction returns the action named s.
func ParseAction(s string) (Action, bool) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), true
		}
	}
	return Allow, false
}

// ActionNames lists the valid action names in order.
func ActionNames() []string { return append([]string(nil), actionNames[:]...) }

// Policy maps entity names to actions.
type Policy struct {
	// Actions by entity name (built-in type names and custom entity names).
	Actions map[string]Action
	// Default applies to entities found but absent from Actions.
	Default Action
	// KeepLast is how many trailing characters Mask keeps visible (default 4).
	KeepLast int
	// HashLen is the number of hex digits of a Hash placeholder (default 12).
	HashLen int
}

// ActionFor returns the action for an entity name.
func (p *Policy) ActionFor(name string) Action {
	if a, ok := p.Actions[name]; ok {
		return a
	}
	return p.Default
}

// Masker applies a policy. It is immutable and safe to share between streams.
type Masker struct {
	Scanner *pii.Scanner
	Policy  Policy
	key     []byte
}

// New returns a masker. key is the HMAC key for hash and tokenize placeholders (at least 16 bytes is
// recommended; the config layer enforces it).
func New(s *pii.Scanner, p Policy, key []byte) *Masker {
	if p.KeepLast <= 0 {
		p.KeepLast = 4
	}
	if p.HashLen <= 0 || p.HashLen > 64 {
		p.HashLen = 12
	}
	return &Masker{Scanner: s, Policy: p, key: append([]byte(nil), key...)}
}

// Finding is one entity acted upon (byte offsets in the input text; never the value).
type Finding struct {
	Name       string
	Action     Action
	Start, End int
	Secret     bool
}

// Result of Apply.
type Result struct {
	Text     []byte    // the rewritten text (the input when nothing changed)
	Changed  bool      // Text differs from the input
	Blocked  bool      // an entity with action block was found
	Findings []Finding // every entity found, in order
}

// Apply scans text and rewrites it according to the policy. Tokenized values are added to v (which may be nil
// when the policy has no tokenize action). monitor reports findings without changing the text.
func (m *Masker) Apply(text []byte, v *Vault, monitor bool) Result {
	ms := m.Scanner.Scan(text, nil)
	res := Result{Text: text}
	if len(ms) == 0 {
		return res
	}
	var out []byte
	last := 0
	for _, mt := range ms {
		name := mt.Name()
		a := m.Policy.ActionFor(name)
		res.Findings = append(res.Findings, Finding{Name: name, Action: a, Start: mt.Start, End: mt.End, Secret: mt.Secret})
		if a == Block {
			res.Blocked = true
		}
		if monitor || a == Allow || a == Block {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(text)+32)
		}
		out = append(out, text[last:mt.Start]...)
		out = m.replace(out, name, a, mt.Secret, text[mt.Start:mt.End], v)
		last = mt.End
	}
	if out != nil {
		out = append(out, text[last:]...)
		res.Text = out
		res.Changed = true
	}
	return res
}

// replace appends the replacement of value under action a.
func (m *Masker) replace(dst []byte, name string, a Action, secret bool, value []byte, v *Vault) []byte {
	switch a {
	case Redact:
		return append(append(append(dst, '['), name...), ']')
	case Mask:
		return maskValue(dst, value, m.Policy.KeepLast)
	case Hash:
		sum := m.mac(name, value)
		dst = append(append(append(dst, '['), name...), ':')
		var hx [64]byte
		hex.Encode(hx[:], sum[:])
		return append(append(dst, hx[:m.Policy.HashLen]...), ']')
	case Tokenize:
		if secret || v == nil {
			// Secrets are never restorable: fall back to redaction.
			return append(append(append(dst, '['), name...), ']')
		}
		ph := m.Placeholder(name, value)
		v.Put(ph, string(value))
		return append(dst, ph...)
	}
	return append(dst, value...)
}

func (m *Masker) mac(name string, value []byte) [32]byte {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(value)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Placeholder returns the reversible placeholder of value: "[" + name + "_" + 8 upper-case hex digits + "]".
// The digits are the first 4 bytes of HMAC-SHA256(key, name NUL value).
func (m *Masker) Placeholder(name string, value []byte) string {
	sum := m.mac(name, value)
	const hexdig = "0123456789ABCDEF"
	b := make([]byte, 0, len(name)+11)
	b = append(append(b, '['), name...)
	b = append(b, '_')
	for _, x := range sum[:4] {
		b = append(b, hexdig[x>>4], hexdig[x&15])
	}
	return string(append(b, ']'))
}

// maskValue keeps the last keep letters/digits and replaces the other letters and digits with '*', keeping
// separators; for an e-mail address it keeps the first character of the local part and the domain.
func maskValue(dst, v []byte, keep int) []byte {
	if at := indexByte(v, '@'); at > 0 {
		dst = append(dst, v[0])
		for k := 1; k < at; k++ {
			dst = append(dst, '*')
		}
		return append(dst, v[at:]...)
	}
	alnum := 0
	for _, c := range v {
		if isAlnum(c) {
			alnum++
		}
	}
	if keep > alnum/2 {
		keep = alnum / 2
	}
	seen := 0
	for _, c := range v {
		if isAlnum(c) {
			seen++
			if seen <= alnum-keep {
				dst = append(dst, '*')
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ApplyJoined is Apply over the texts of adjacent content parts of one message, scanned as one text
// (pii.Scanner.ScanJoined): a value split across parts is found and masked as a whole. Its replacement goes
// into the part where the value starts; the pieces in the following parts are removed. Findings are reported
// in the part where they start, with offsets clipped to that part.
func (m *Masker) ApplyJoined(parts [][]byte, v *Vault, monitor bool) []Result {
	res := make([]Result, len(parts))
	if len(parts) == 1 {
		res[0] = m.Apply(parts[0], v, monitor)
		return res
	}
	joined, ms := m.Scanner.ScanJoined(parts)
	bounds := make([]int, len(parts)+1)
	for k, p := range parts {
		res[k].Text = p
		bounds[k+1] = bounds[k] + len(p)
	}
	partOf := func(off int) int {
		k := 0
		for k+1 < len(parts) && bounds[k+1] <= off {
			k++
		}
		return k
	}
	outs := make([][]byte, len(parts))
	lasts := make([]int, len(parts))
	for _, mt := range ms {
		name := mt.Name()
		a := m.Policy.ActionFor(name)
		p0, p1 := partOf(mt.Start), partOf(mt.End-1)
		end0 := mt.End
		if end0 > bounds[p0+1] {
			end0 = bounds[p0+1]
		}
		res[p0].Findings = append(res[p0].Findings, Finding{Name: name, Action: a, Start: mt.Start - bounds[p0], End: end0 - bounds[p0], Secret: mt.Secret})
		if a == Block {
			res[p0].Blocked = true
		}
		if monitor || a == Allow || a == Block {
			continue
		}
		for p := p0; p <= p1; p++ {
			s, e := mt.Start-bounds[p], mt.End-bounds[p]
			if s < 0 {
				s = 0
			}
			if e > len(parts[p]) {
				e = len(parts[p])
			}
			if outs[p] == nil {
				outs[p] = make([]byte, 0, len(parts[p])+32)
			}
			outs[p] = append(outs[p], parts[p][lasts[p]:s]...)
			if p == p0 {
				outs[p] = m.replace(outs[p], name, a, mt.Secret, joined[mt.Start:mt.End], v)
			}
			lasts[p] = e
		}
	}
	for p := range parts {
		if outs[p] != nil {
			res[p].Text = append(outs[p], parts[p][lasts[p]:]...)
			res[p].Changed = true
		}
	}
	return res
}
