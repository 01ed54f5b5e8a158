package pii

import "github.com/wasmguard/wasmguard/sdk/pii/internal/secretscore"

// The generic secret detectors (assignments to a credential name, values after a credential keyword in prose,
// standalone high-entropy tokens, unknown vendors' prefixed tokens, and vendor-prefixed tokens whose body
// looks like a placeholder) produce candidates; a learned scorer (internal/secretscore) decides which of them
// are reported, from the features below. The syntactic rejections (templates, references, calls, constant
// names) stay hard rules in the detectors: they are not a matter of degree.

// candidate kinds, in the order of the kind features
const (
	ckAssignPassword = iota
	ckAssignToken
	ckKeyword
	ckEntropy
	ckPrefixed
	ckVendor
)

var placeholderAll = newFoldSet(append(append([]string{}, placeholderWords...), "abcd", "1234"))

// word categories looked for on the candidate's line, in one pass (lineWords)
const (
	lwFixture    = 1 << iota // example, test, fake, dummy, sample, mock
	lwCredential             // pass, pwd, secret, token, key, auth, credential
	lwHash                   // sha, md5, hash, checksum, digest, commit, revision, version, integrity
)

type catWord struct {
	w   string
	cat uint8
}

var lineWordsByFirst = func() (t [256][]catWord) {
	add := func(cat uint8, ws ...string) {
		for _, w := range ws {
			t[w[0]] = append(t[w[0]], catWord{w, cat})
		}
	}
	add(lwFixture, "example", "test", "fake", "dummy", "sample", "mock")
	add(lwCredential, "pass", "pwd", "secret", "token", "key", "auth", "credential")
	add(lwHash, "sha", "md5", "hash", "checksum", "chksum", "digest", "commit", "srcrev", "revision", "version", "integrity")
	return t
}()

// lineWords returns the categories of the words of lineWordsByFirst found in b (ASCII case folded).
func lineWords(b []byte) uint8 {
	var cats uint8
	for k, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		for _, cw := range lineWordsByFirst[c] {
			if cats&cw.cat != 0 || k+len(cw.w) > len(b) {
				continue
			}
			ok := true
			for q := 1; q < len(cw.w); q++ {
				if lower(b[k+q]) != cw.w[q] {
					ok = false
					break
				}
			}
			if ok {
				cats |= cw.cat
			}
		}
	}
	return cats
}

// log2n returns log2(n) for 1 <= n <= 255 from Entropy's table, and 8 above.
func log2n(n int) float64 {
	if n <= 1 {
		return 0
	}
	if n > 255 {
		return 8
	}
	return cLog2c[n] / float64(n)
}

// secretFeatures describes the candidate text[vs:ve] of kind k; quoted tells a quoted or KEY=value literal
// and key is the name it is assigned to (nil when none).
func secretFeatures(text []byte, vs, ve, k int, quoted bool, key []byte, rule bool) (f [secretscore.NFeat]float32) {
	cheapFeatures(&f, text[vs:ve], k, quoted, rule)
	lazyFeatures(&f, text, vs, ve, k, quoted, key)
	return f
}

func b01(x bool) float32 {
	if x {
		return 1
	}
	return 0
}

// cheapFeatures fills the features of the value alone that are not secretscore.Lazy.
func cheapFeatures(f *[secretscore.NFeat]float32, v []byte, k int, quoted, rule bool) {
	l := len(v)
	f[secretscore.FKindAssignPassword+k] = 1
	if quoted {
		f[secretscore.FQuoted] = 1
	}
	lo, up, di, ot := classCounts(v)
	h := Entropy(v)
	f[secretscore.FLogLen] = float32(log2n(l) / 8)
	f[secretscore.FEntropy] = float32(h / 6)
	alpha := 0
	hex := allHexAnyCase(v)
	switch {
	case hex:
		alpha = 16
	default:
		if lo > 0 {
			alpha += 26
		}
		if up > 0 {
			alpha += 26
		}
		if di > 0 {
			alpha += 10
		}
		if ot > 0 {
			alpha += 16
		}
	}
	m := l
	if alpha < m {
		m = alpha
	}
	if e := log2n(m); e > 0 {
		f[secretscore.FEntropyRatio] = float32(h / e)
	}
	b := b01
	f[secretscore.FLower] = b(lo > 0)
	f[secretscore.FUpper] = b(up > 0)
	f[secretscore.FDigit] = b(di > 0)
	f[secretscore.FOther] = b(ot > 0)
	f[secretscore.FHexOnly] = b(hex && l >= 16)
	f[secretscore.FDigitShare] = float32(di) / float32(l)
	f[secretscore.FUpperShare] = float32(up) / float32(l)
	f[secretscore.FDigitsOnly] = b(di == l)
	f[secretscore.FShort] = b(l < 8)
	f[secretscore.FLong] = b(l >= 32)
	f[secretscore.FRuleAccept] = b(rule)
}

// lazyFeatures fills the secretscore.Lazy features: the value's shape in detail, its key and its line.
func lazyFeatures(f *[secretscore.NFeat]float32, text []byte, vs, ve, k int, quoted bool, key []byte) {
	v := text[vs:ve]
	l := len(v)
	b := b01
	lo, up, di, ot := classCounts(v)
	f[secretscore.FUUID] = b(isUUID(v))
	f[secretscore.FSequential] = float32(seqShare(v))
	f[secretscore.FLowEntropy] = b(l >= 8 && lowEntropy(v))
	f[secretscore.FPlaceholder] = b(containsSetFold(v, placeholderAll))
	f[secretscore.FWeakWord] = b(containsSetFold(v, weakPlaceholderSet))
	f[secretscore.FWordIdentifier] = b(wordIdentifier(v))
	f[secretscore.FPronounceable] = b(di == 0 && ot == 0 && pronounceable(v))
	f[secretscore.FVendorLike] = b(k != ckVendor && (vendorLookalike(v) || publicByDesign(v)))
	// the line around the value (up to RightContext bytes each side)
	ls := vs
	for ls > 0 && vs-ls < RightContext && text[ls-1] != '\n' {
		ls--
	}
	le := ve
	for le < len(text) && le-ve < RightContext && text[le] != '\n' {
		le++
	}
	before, after := lineWords(text[ls:vs]), lineWords(text[ve:le])
	f[secretscore.FLineFixture] = b((before|after)&lwFixture != 0)
	if key != nil {
		f[secretscore.FKeyPublic] = b(namesNoSecret(key))
		f[secretscore.FKeyPassword] = b(containsSetFold(key, passwordKeySet))
	}
	f[secretscore.FKeyCredential] = b(before&lwCredential != 0)
	a, z := ls, le
	for a < vs && (text[a] == ' ' || text[a] == '\t' || text[a] == '"' || text[a] == '\'') {
		a++
	}
	for z > ve && (text[z-1] == ' ' || text[z-1] == '\t' || text[z-1] == '\r' || text[z-1] == '"' || text[z-1] == '\'' || text[z-1] == ',') {
		z--
	}
	f[secretscore.FAlone] = b(a == vs && z == ve)
	run, maxRun := 1, 1
	for q := 1; q < l; q++ {
		if v[q] == v[q-1] {
			run++
			if run > maxRun {
				maxRun = run
			}
		} else {
			run = 1
		}
	}
	f[secretscore.FMaxRun] = float32(maxRun) / float32(l)
	if lo+up > 0 {
		vow := 0
		for _, c := range v {
			switch lower(c) {
			case 'a', 'e', 'i', 'o', 'u':
				vow++
			}
		}
		f[secretscore.FVowelShare] = float32(vow) / float32(lo+up)
	}
	q := ve
	for q < le && text[q] == ' ' {
		q++
	}
	f[secretscore.FLeftHand] = b(q < le && (text[q] == '=' || text[q] == ':') && !quoted)
	f[secretscore.FHashWord] = b((before|after|lineWords(v))&lwHash != 0)
	segs, words := 0, 0
	st := 0
	for q := 0; q <= l; q++ {
		if q < l && v[q] != '-' && v[q] != '_' && v[q] != '.' {
			continue
		}
		if q > st {
			segs++
			if lo2, up2, _, _ := classCounts(v[st:q]); lo2+up2 == q-st {
				words++
			}
		}
		st = q + 1
	}
	if segs > 1 {
		f[secretscore.FSegments] = float32(words) / float32(segs)
	}
}

// seqShare is the share of steps between alphanumerics that go to an adjacent character (see sequential).
func seqShare(b []byte) float64 {
	steps, n := seqSteps(b)
	if n == 0 {
		return 0
	}
	return float64(steps) / float64(n)
}

// gateSecret scores the candidate text[vs:ve] and reports whether it is kept; rule tells whether the
// detector's hand-written checks accept it.
func gateSecret(text []byte, vs, ve, k int, quoted bool, key []byte, rule bool) bool {
	if secretscore.Collect != nil {
		f := secretFeatures(text, vs, ve, k, quoted, key, rule)
		return secretscore.Accept(&f, vs, ve)
	}
	// the features of the value alone first: they often settle the gate whatever the rest say (exactly: the
	// bound is the sum of the remaining weights)
	var f [secretscore.NFeat]float32
	cheapFeatures(&f, text[vs:ve], k, quoted, rule)
	t := secretscore.ThresholdFor(&f, secretscore.ThresholdRule, secretscore.ThresholdOther)
	if done, ok := secretscore.Decided(secretscore.Score(&f), t); done {
		return ok
	}
	lazyFeatures(&f, text, vs, ve, k, quoted, key)
	return secretscore.Score(&f) >= t
}

// syntacticPlaceholder reports values that are a template, a reference or a name by their syntax, not by
// their words: ${X}, {{x}}, <your key>, %s, process.env.X, a URL, a path or a file name, one repeated byte.
func syntacticPlaceholder(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	switch v[0] {
	case '$', '{', '<', '%', '[', '(', '@', '#', '*':
		return true
	}
	if hasPrefixAt(v, 0, "-----") {
		return true // a PEM armour line: the block is the private-key detector's
	}
	return allSame(v) || containsSetFold(v, syntaxPlaceholderSet) || hasAngleHole(v) || structuredName(v)
}

var syntaxPlaceholderSet = newFoldSet([]string{"${", "{{", "%s", "process.env", "os.environ", "getenv", "env[", "config.", "settings.", "$(", "****", "...."})
