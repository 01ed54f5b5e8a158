// Package secretscore is the learned gate of sdk/pii's generic secret detectors: a logistic regression over
// hand-made features of a candidate value and its context (computed by package pii), trained by
// `go run ./sdk/pii/cmd/trainsecrets` on the trainable records of ../shared/datasets/secrets.{dev,train}.jsonl.
// The weights are small float constants in weights_gen.go; the threshold was chosen out of fold.
package secretscore

// Feature indices (package pii fills them; the names are in Names, in this order).
const (
	FKindAssignPassword = iota // candidate kinds (one-hot)
	FKindAssignToken
	FKindKeyword
	FKindEntropy
	FKindPrefixed
	FKindVendor
	FQuoted         // a quoted or KEY=value literal
	FLogLen         // log2(length)/8
	FEntropy        // Shannon entropy / 6
	FEntropyRatio   // entropy against the expectation for the character classes present and the length
	FLower          // character classes present
	FUpper          //
	FDigit          //
	FOther          //
	FHexOnly        // hex digits only (a hash or an id as often as a key)
	FUUID           // 8-4-4-4-12
	FSequential     // share of steps to an adjacent character (abc, 123, a1b2)
	FLowEntropy     // a run, a repeated pattern or low entropy (xxxx, abcabc)
	FPlaceholder    // a placeholder word in the value (example, your, changeme, xxxx, ...)
	FWeakWord       // "password"/"secret" in the value
	FWordIdentifier // words joined by _ - . (a name)
	FPronounceable  // letters only and word-like
	FVendorLike     // a known vendor prefix its rule rejected
	FDigitShare     // digits / length
	FUpperShare     // upper case / length
	FLineFixture    // the line names an example, test, fake, dummy or sample value
	FKeyPublic      // the assigned name names a public value or an identifier
	FKeyPassword    // a password keyword names the value
	FKeyCredential  // a credential keyword (secret, token, key, password, auth) before the value on its line
	FAlone          // the value is the whole line
	FMaxRun         // longest run of one character / length
	FVowelShare     // vowels / letters
	FDigitsOnly     // digits only
	FShort          // shorter than 8
	FLong           // 32 or longer
	FRuleAccept     // the hand-written rules of the detector accept the candidate
	FLeftHand       // followed by '=' or ':' (a name being assigned, not a value)
	FHashWord       // the line names a hash, checksum, digest, commit, revision or version
	FSegments       // share of '-', '_', '.' separated segments that are letters only
	NFeat
)

// Names of the features, for reports.
var Names = [NFeat]string{"kind:assign-password", "kind:assign-token", "kind:keyword", "kind:entropy",
	"kind:prefixed", "kind:vendor", "quoted", "loglen", "entropy", "entropy-ratio", "lower", "upper", "digit",
	"other", "hex-only", "uuid", "sequential", "low-entropy", "placeholder", "weak-word", "word-identifier",
	"pronounceable", "vendor-like", "digit-share", "upper-share", "line-fixture", "key-public", "key-password",
	"key-credential", "alone", "max-run", "vowel-share", "digits-only", "short", "long", "rule-accept", "left-hand", "hash-word", "segments"}

// Collect, when set (training and evaluation only, never in a filter), receives every gated candidate with
// its features and byte span; the gate then rejects the candidate so that every detector's candidate is seen.
var Collect func(f *[NFeat]float32, start, end int)

// Score returns the logit of the candidate being a secret under the shipped weights.
func Score(f *[NFeat]float32) float32 {
	return ScoreWith(&Weights, Bias, f)
}

// ScoreWith returns the logit under weights w and bias b.
func ScoreWith(w *[NFeat]float32, b float32, f *[NFeat]float32) float32 {
	z := b
	for k := range f {
		z += w[k] * f[k]
	}
	return z
}

// Accept reports whether a candidate with features f passes the gate, or hands it to Collect. A candidate
// the detector's hand-written checks accept needs a score of ThresholdRule, any other ThresholdOther.
func Accept(f *[NFeat]float32, start, end int) bool {
	if Collect != nil {
		Collect(f, start, end)
		return false
	}
	return Score(f) >= ThresholdFor(f, ThresholdRule, ThresholdOther)
}

// Lazy marks the features a caller may compute only when the others leave the decision open (all lie in
// [0, 1]); RestLo and RestHi bound their contribution to the logit under the shipped weights.
var Lazy = func() (m [NFeat]bool) {
	for _, k := range []int{FUUID, FSequential, FLowEntropy, FPlaceholder, FWeakWord, FWordIdentifier, FPronounceable,
		FVendorLike, FLineFixture, FKeyPublic, FKeyPassword, FKeyCredential, FAlone, FMaxRun, FVowelShare,
		FLeftHand, FHashWord, FSegments} {
		m[k] = true
	}
	return m
}()

// RestLo and RestHi are the lowest and highest sum the Lazy features can add to the logit.
var RestLo, RestHi = func() (lo, hi float32) {
	for k, w := range Weights {
		if Lazy[k] {
			if w < 0 {
				lo += w
			} else {
				hi += w
			}
		}
	}
	return lo, hi
}()

// Decided reports whether the logit z of the features computed so far (the Lazy ones still zero) settles
// the gate at threshold t whatever the Lazy features are, and how.
func Decided(z, t float32) (decided, accept bool) {
	switch {
	case z+RestLo >= t:
		return true, true
	case z+RestHi < t:
		return true, false
	}
	return false, false
}

// ThresholdFor returns the threshold of a candidate: tRule when the hand-written checks accept it (a vendor
// placeholder never counts as accepted), else tOther.
func ThresholdFor(f *[NFeat]float32, tRule, tOther float32) float32 {
	if f[FRuleAccept] == 1 && f[FKindVendor] == 0 {
		return tRule
	}
	return tOther
}
