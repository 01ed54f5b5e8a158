package check

import (
	"crypto/hmac"
	"crypto/sha256"
)

// A gateway-injected canary (prompt_leak.inject_canary). The filter writes a token the model has no reason to
// repeat at the start of the request's first system message, "[ogc7m2x9q4tzk] <the prompt>", and the answer is
// checked for it like a configured canary: as written, reversed, spelled out, ROT13, base64, hex, as character
// codes (addCanary). A model that dumps, quotes or encodes its instructions from their start carries the token
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

// WithCanary returns a checker that also reports token (in every form a configured canary is reported in). k
// is not changed. The prompt-leak check must be enabled.
func (k *Checker) WithCanary(token string) *Checker {
	n := normalizeCanary(token)
	if !k.cfg.Leak.Enabled || len(n) < defaultMinCanaryLen || len(n) > maxCanaryLen {
		return k
	}
	d := *k
	d.reqs = nil
	d.canaries = append([]canary(nil), k.canaries...)
	d.splitCanary = append([][]string(nil), k.splitCanary...)
	d.splitOf = append([]int(nil), k.splitOf...)
	d.acrostic = append([]string(nil), k.acrostic...)
	d.variants = append([]variant(nil), k.variants...)
	d.near = append([]string(nil), k.near...)
	d.hintSecs = append([]string(nil), k.hintSecs...)
	d.pieces = append([][]string(nil), k.pieces...)
	d.units = append([]unitSecret(nil), k.units...)
	d.numbers = append([]int(nil), k.numbers...)
	d.forms = append([]canaryForm(nil), k.forms...)
	d.addCanary(n)
	d.addCodeForms(token)
	d.finish()
	return &d
}
