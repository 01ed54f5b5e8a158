package llm

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Key matching. A JSON key names a field exactly, escapes decoded ("c\u006fntent" is "content"): that is how every
// provider's parser reads it (Python json and pydantic, JavaScript JSON.parse, Go encoding/json when an exact
// match exists). Go's encoding/json (Ollama, LocalAI, Go proxies) also takes a key that only folds to a field name
// ("Content", "meſſages" with a long s, "\u212a" Kelvin sign for k) when no exact one exists, and then the last
// matching key wins. So:
//
//   - scalars and structure (model, stream, limits, type, name, id) are read from exact keys, the last copy
//     winning, as Python and JavaScript upstreams do; for FormatOllama (a Go upstream) folded keys count too;
//   - every text-bearing field is read from every copy, exact or folded ("alias"), so the text a Go upstream
//     reads is inspected as well as the text a Python one reads; each copy is its own segment with its own Loc;
//   - roles are merged over every copy, exact or folded: the least trusted one wins;
//   - a content part's or block's "type" never hides its text: a "text" member is read whatever the type says.
//
// With Options.DuplicateKeys = DuplicateKeysReject a body where some object has two keys that are equal or fold to
// the same key is refused with ErrDuplicateKey instead.

// knownKeys maps the folded form of each field name the parsers switch on to its canonical spelling.
var knownKeys = func() map[string]string {
	names := []string{
		"model", "messages", "role", "content", "name", "tool_calls", "tool_call_id", "function", "function_call",
		"arguments", "type", "text", "refusal", "stream", "stream_options", "include_usage", "max_tokens",
		"max_completion_tokens", "options", "num_predict", "prompt", "suffix", "system", "input", "instructions",
		"output", "call_id", "id", "max_output_tokens", "summary", "source", "data", "title", "context",
		"tool_use_id", "thinking", "contents", "parts", "systemInstruction", "system_instruction",
		"generationConfig", "generation_config", "maxOutputTokens", "functionCall", "functionResponse",
		"function_response", "args", "response", "executableCode", "executable_code", "code",
		"codeExecutionResult", "code_execution_result", "tool_name", "images", "anthropic_version", "stop_sequences", "tools", "functions",
		"top_k", "template", "metadata", "user", "response_format", "text_format", "image_url", "url",
		"inlineData", "inline_data", "mimeType", "mime_type", "additional_messages", "requests", "params",
		"results", "outputs", "items", "description", "input_schema", "parameters", "json_schema", "schema",
		"raw", "context_management", "container", "tool_choice", "prediction", "safety_identifier",
		"prompt_cache_key", "labels", "cachedContent", "cached_content", "fileData", "file_data", "item",
		"action", "query", "queries", "logs", "stdout", "stderr", "filename", "system_prompt", "image_data",
		"n_predict", "encrypted_content", "reasoning_content", "audio", "transcript", "custom",
		"additional_instructions", "thread", "tool_outputs", "input_prefix", "input_suffix", "input_extra", "file",
		"variables", "tool_resources", "attachments", "functionDeclarations", "function_declarations",
		"n", "best_of", "candidateCount", "candidate_count",
		"input_audio", "media_type", "file_url", "file_id",
	}
	folded := make(map[string]string, len(names))
	for _, n := range names {
		folded[string(foldKey(nil, []byte(n)))] = n
		if len(n) < len(knownByLen) {
			knownByLen[len(n)] = append(knownByLen[len(n)], n)
		}
	}
	return folded
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

// keyMatch returns the canonical spelling of the known field name the key names, exactly or folded, or "" for any
// other key; alias is true for a folded match (a key only Go upstreams read as that field). It does not allocate
// for keys without escapes.
func keyMatch(b []byte, k val) (name string, alias bool) {
	raw := b[k.s+1 : k.e-1]
	if simpleKey(raw) {
		if len(raw) >= len(knownByLen) {
			return "", false
		}
		cands := knownByLen[len(raw)]
		for _, n := range cands {
			// The first and last bytes first: a string comparison is a call in wasm.
			if n[0] == raw[0] && n[len(n)-1] == raw[len(raw)-1] && string(raw) == n {
				return n, false
			}
		}
		if !hasUpper(raw) {
			return "", false
		}
		for _, n := range cands {
			if asciiFoldEq(raw, n) {
				return n, true
			}
		}
		return "", false
	}
	if len(raw) > 6*64 {
		return "", false
	}
	dec := keyBytes(b, k)
	if len(dec) < len(knownByLen) {
		for _, n := range knownByLen[len(dec)] {
			if string(dec) == n {
				return n, false
			}
		}
	}
	if len(dec) > 64 {
		return "", false
	}
	var scratch [96]byte
	n := knownKeys[string(foldKey(scratch[:0], dec))]
	return n, n != ""
}

// keyCanon returns the canonical spelling of the known field name the key names, exactly or folded (see
// keyMatch), or "".
func keyCanon(b []byte, k val) string {
	n, _ := keyMatch(b, k)
	return n
}

func hasUpper(raw []byte) bool {
	for _, c := range raw {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// keyBytes returns the raw key without quotes, decoded when it has escapes.
func keyBytes(b []byte, k val) []byte {
	raw := b[k.s+1 : k.e-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return []byte(unquote(b, k))
	}
	return raw
}

// keyIs reports whether the key token names exactly name (escapes decoded), as providers match keys.
func keyIs(b []byte, key val, name string) bool {
	raw := b[key.s+1 : key.e-1]
	if string(raw) == name {
		return true
	}
	if len(raw) <= len(name) || len(raw) > 6*len(name) || bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	return unquote(b, key) == name
}

// keyFold reports whether the key token names name exactly or folded (escapes decoded): the keys a Go upstream
// reads as that field.
func keyFold(b []byte, key val, name string) bool {
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

// copies iterates over every member of an object whose key names a field exactly or folded: the copies of a
// text-bearing field that some upstream reads. Use: for c := copiesOf(b, o, "text"); ; { v, ok := c.next(); ... }.
type copies struct {
	it   iter
	b    []byte
	name string
}

func copiesOf(b []byte, o val, name string) copies {
	if o.k != kObject {
		return copies{it: iter{done: true}}
	}
	return copies{it: o.iter(b), b: b, name: name}
}

func (c *copies) next() (val, bool) {
	for {
		k, v, ok := c.it.next()
		if !ok {
			return val{}, false
		}
		if keyFold(c.b, k, c.name) {
			return v, true
		}
	}
}
