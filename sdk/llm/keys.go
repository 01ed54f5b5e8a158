package llm

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Key matching is case-insensitive, the way Go's encoding/json matches field names (bytes.EqualFold, including
// the long s "ſ" and the Kelvin sign "K"). Upstreams written in Go (Ollama, LocalAI, Go proxies) read "Content" or
// "meſſages" as the real fields; a case-sensitive parser would skip them and let text reach the model unseen.
// Python upstreams ignore or reject such keys, so reading them too costs nothing there.

// knownKeys maps the folded form of each field name the parsers switch on to its canonical spelling; knownExact
// maps each canonical spelling to itself (so a lookup returns a string without allocating).
var knownKeys, knownExact = func() (map[string]string, map[string]string) {
	names := []string{
		"model", "messages", "role", "content", "name", "tool_calls", "tool_call_id", "function", "function_call",
		"arguments", "type", "text", "refusal", "stream", "stream_options", "include_usage", "max_tokens",
		"max_completion_tokens", "options", "num_predict", "prompt", "suffix", "system", "input", "instructions",
		"output", "call_id", "id", "max_output_tokens", "summary", "source", "data", "title", "context",
		"tool_use_id", "thinking", "contents", "parts", "systemInstruction", "system_instruction",
		"generationConfig", "generation_config", "maxOutputTokens", "functionCall", "functionResponse",
		"function_response", "args", "response", "executableCode", "executable_code", "code",
		"codeExecutionResult", "code_execution_result", "tool_name", "images", "anthropic_version", "stop_sequences", "tools", "functions",
		"top_k",
	}
	folded := make(map[string]string, len(names))
	exact := make(map[string]string, len(names))
	for _, n := range names {
		folded[string(foldKey(nil, []byte(n)))] = n
		exact[n] = n
		if len(n) < len(knownByLen) {
			knownByLen[len(n)] = append(knownByLen[len(n)], n)
		}
	}
	return folded, exact
}()

// knownByLen groups the known names by length: a plain ASCII key is compared with the few names of its length
// (hashing for a map lookup is slow in wasm).
var knownByLen [32][]string

// foldKey appends the case-folded form of key: each rune becomes the smallest rune of its simple case-folding
// orbit, lower-cased, so keys equal under bytes.EqualFold fold to the same bytes.
func foldKey(out, key []byte) []byte {
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		i += n
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < low {
				low = f
			}
		}
		out = utf8.AppendRune(out, unicode.ToLower(low))
	}
	return out
}

// plainLower reports whether raw has only lower-case ASCII letters and no escapes or non-ASCII bytes, so it folds
// to itself.
func plainLower(raw []byte) bool {
	for _, c := range raw {
		if ('A' <= c && c <= 'Z') || c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// keyCanon returns the canonical spelling of a known field name the key matches case-insensitively, or "" for
// any other key. It does not allocate for keys spelled canonically.
func keyCanon(b []byte, k val) string {
	raw := b[k.s+1 : k.e-1]
	if simpleKey(raw) {
		if len(raw) >= len(knownByLen) {
			return ""
		}
		cands := knownByLen[len(raw)]
		for _, n := range cands {
			if string(raw) == n {
				return n
			}
		}
		for _, n := range cands {
			if asciiFoldEq(raw, n) {
				return n
			}
		}
		return ""
	}
	if len(raw) > 64 {
		return ""
	}
	raw = keyBytes(b, k)
	var scratch [96]byte
	return knownKeys[string(foldKey(scratch[:0], raw))]
}

// keyBytes returns the raw key without quotes, decoded when it has escapes.
func keyBytes(b []byte, k val) []byte {
	raw := b[k.s+1 : k.e-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return []byte(unquote(b, k))
	}
	return raw
}

// keyIs reports whether the key token matches name (ASCII) case-insensitively, escapes decoded.
func keyIs(b []byte, key val, name string) bool {
	raw := b[key.s+1 : key.e-1]
	if simpleKey(raw) {
		return asciiFoldEq(raw, name)
	}
	return slowKeyIs(b, key, name)
}

// simpleKey reports whether raw is plain ASCII without escapes, the case asciiFoldEq decides alone.
func simpleKey(raw []byte) bool {
	for _, c := range raw {
		if c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

func asciiFoldEq(raw []byte, name string) bool {
	if len(raw) != len(name) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c, d := raw[i], name[i]
		if c == d {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

func slowKeyIs(b []byte, key val, name string) bool {
	if key.e-key.s > 6*len(name)+8 {
		return false
	}
	var s1, s2 [96]byte
	return bytes.Equal(foldKey(s1[:0], keyBytes(b, key)), foldKey(s2[:0], []byte(name)))
}
