package llm

import (
	"bytes"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrAmbiguousKey is wrapped by request errors for keys that differ only in letter case from a field this package
// reads ("Content", "MESSAGES", or "me\u017fsages" with a long s). Upstreams written in Go (Ollama, LocalAI, Go
// proxies) decode JSON field names case-insensitively (bytes.EqualFold), so such a key would be read upstream as
// the real field while a case-sensitive parser skipped it: a way to smuggle text past the filters. No legitimate
// client sends them.
var ErrAmbiguousKey = errors.New("key differs only in case from a known field")

// knownKeys maps the folded form of each field name the request parsers read to its spelling; knownExact holds
// the exact spellings (a key spelled exactly like a field is fine, even when another field folds the same).
var knownKeys, knownExact = func() (map[string]string, map[string]struct{}) {
	names := []string{
		"model", "messages", "role", "content", "name", "tool_calls", "tool_call_id", "function", "function_call",
		"arguments", "type", "text", "refusal", "stream", "stream_options", "include_usage", "max_tokens",
		"max_completion_tokens", "options", "num_predict", "prompt", "suffix", "system", "input", "instructions",
		"output", "call_id", "id", "max_output_tokens", "summary", "source", "data", "title", "context",
		"tool_use_id", "thinking", "contents", "parts", "systemInstruction", "system_instruction",
		"generationConfig", "generation_config", "maxOutputTokens", "functionCall", "functionResponse",
		"function_response", "args", "response", "executableCode", "executable_code", "code",
		"codeExecutionResult", "code_execution_result", "tool_name", "images",
	}
	folded := make(map[string]string, len(names))
	exact := make(map[string]struct{}, len(names))
	for _, n := range names {
		folded[string(foldKey(nil, []byte(n)))] = n
		exact[n] = struct{}{}
	}
	return folded, exact
}()

// foldKey appends the case-folded form of key: each rune is mapped to the smallest rune of its simple case-folding
// orbit and then lower-cased, so keys equal under bytes.EqualFold (Go's encoding/json rule) fold the same.
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
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		out = utf8.AppendRune(out, unicode.ToLower(min))
	}
	return out
}

// checkKeys walks every object key of the validated body and rejects keys that fold to a known field name without
// being spelled exactly like one.
func checkKeys(b []byte) error {
	var scratch [64]byte
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return nil
		}
		i += q
		e := skipString(b, i)
		j := skipWS(b, e)
		if j < len(b) && b[j] == ':' && e-i-2 <= len(scratch) {
			k := val{s: i, e: e, k: kString}
			raw := keyBytes(b, k)
			if _, exact := knownExact[string(raw)]; !exact {
				if known, ok := knownKeys[string(foldKey(scratch[:0], raw))]; ok {
					return fmt.Errorf("key %q at offset %d: %w %q", raw, i, ErrAmbiguousKey, known)
				}
			}
		}
		i = e
	}
	return nil
}
