package check

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
)

// A gateway-injected canary (prompt_leak.inject_canary). The filter writes a token the model has no reason to
// repeat at the start of the request's first system message, "[ogc7m2x9q4tzk] <the prompt>", and the answer is
// checked for it like a configured canary: as written, reversed, spelled out, ROT13, base64, hex, as character
// codes (WithCanary). A model that dumps, quotes or encodes its instructions from their start carries the token
// along, whatever the prompt says; a summary or translation does not (the n-gram, paraphrase and rare-token
// checks are for those).
//
// The token is HMAC-SHA256(key, system prompt) in 12 base32 letters after "og": unpredictable without the key (a
// user cannot ask the model to leave it out by name, nor plant it to get answers blocked), and the same for the
// same prompt under one key, so a provider's prompt cache (a prefix match) still hits from one request to the
// next. The filter draws the key at start-up, per VM.

const canaryTokenLen = 12 // base32 letters after the prefix: 60 bits

// CanaryToken returns the canary injected into a request whose system prompt is prompt.
func CanaryToken(key []byte, prompt string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(prompt))
	sum := m.Sum(nil)
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	out := make([]byte, 0, 2+canaryTokenLen)
	out = append(out, "og"...)
	var acc uint64
	for i := 0; i < 8; i++ {
		acc = acc<<8 | uint64(sum[i])
	}
	for i := 0; i < canaryTokenLen; i++ {
		out = append(out, alphabet[acc>>59])
		acc <<= 5
	}
	return string(out)
}

// InjectCanary returns the system-prompt text with the canary token in front, as the filter sends it upstream.
func InjectCanary(token, systemPrompt string) string { return "[" + token + "] " + systemPrompt }

// WithCanary returns a checker that also reports token (a word of 5 to 64 letters and digits, as CanaryToken
// makes): as a whole word in any case, reversed, ROT13, base64, hex, spelled out letter by letter, as
// character codes. k is not changed; the prompt-leak check must be enabled. The token is matched at word starts
// through the word filter, not as a canary: a canary's first letter would stop the skip loop at every "o" and
// turn its 8-byte steps off (native: 25 % slower on ordinary text).
func (k *Checker) WithCanary(token string) *Checker {
	w := variantWord(bytes.ToLower([]byte(token)))
	if !k.cfg.Leak.Enabled || w == nil {
		return k
	}
	d := *k
	d.reqs = nil
	d.variants = append(append([]variant(nil), k.variants...), variant{name: "canary", text: string(w)})
	for _, v := range canaryVariants(w) {
		d.variants = append(d.variants, variant{name: "canary_" + v.name, text: strings.ToLower(v.text)})
	}
	d.acrostic = append(append([]string(nil), k.acrostic...), string(w)) // spelled out: spelledAt
	d.forms = append([]canaryForm(nil), k.forms...)
	d.addCodeForms(token)
	d.finish()
	return &d
}
