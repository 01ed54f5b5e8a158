package llm

import (
	"slices"
	"strconv"
	"strings"
)

// The residual pass closes the class "a field this package does not know": after a format's parser has read a
// body, every other string value in it becomes a metadata segment (Message -1, Part -1, Path its JSON path), so a
// PII filter sees every string the provider receives, including fields added to an API after this code. A prompt
// filter may ignore them: providers do not put unknown fields in front of the model. Skipped: object keys, the
// values of members that only identify or classify (idKeys, model), binary payloads (base64 image, audio and file
// data, signatures, encrypted content) and data: URLs.

// binaryKeys are members whose string values are binary payloads, opaque tokens, ids or enum words.
var binaryKeys = []string{"data", "file_data", "image_data", "b64_json", "signature", "encrypted_content",
	"thoughtSignature", "thought_signature", "model", "previous_response_id", "conversation", "custom_id",
	"assistant_id", "thread_id", "run_id", "container", "cachedContent", "cached_content", "name", "tool_choice",
	"service_tier", "reasoning_effort", "verbosity", "truncation", "format", "detail", "encoding_format", "voice",
	"anthropic_version", "anthropic_beta", "index", "phase", "effort", "category", "threshold", "tool_name",
	"responseMimeType", "response_mime_type", "mediaResolution", "media_resolution", "include", "modalities",
	"responseModalities", "response_modalities"}

func (p *reqParser) residual(r val) {
	b := p.b
	covered := make([]int, len(p.req.Segments))
	for i := range p.req.Segments {
		covered[i] = p.req.Segments[i].Loc.Start
	}
	slices.Sort(covered)
	s := p.sg()
	// One linear scan of the validated body (the skip-based iterators would rescan nested values once per level).
	var stack []pathElem
	expectKey := false
	ci := 0
	for i := r.s; i < r.e; {
		switch b[i] {
		case '{':
			stack = append(stack, pathElem{obj: true})
			expectKey = true
		case '[':
			stack = append(stack, pathElem{})
			expectKey = false
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].obj {
					expectKey = true
				} else {
					stack[n-1].i++
				}
			}
		case '"':
			e := skipString(b, i)
			n := len(stack)
			if n > 0 && stack[n-1].obj && expectKey {
				stack[n-1].key = val{s: i, e: e, k: kString}
				expectKey = false
				i = e
				continue
			}
			for ci < len(covered) && covered[ci] < i {
				ci++
			}
			skip := ci < len(covered) && covered[ci] == i || hasPrefixFold(b[i+1:e-1], "data:")
			if !skip && n > 0 && stack[n-1].obj {
				k := stack[n-1].key
				skip = residualSkipKey(b, k)
			}
			if !skip {
				s.add(-1, -1, "", ProvMetadata, val{s: i, e: e, k: kString}, "", pathString(b, stack))
			}
			i = e
			continue
		}
		i++
	}
	p.req.Segments = s.list
}

// pathElem is one level of the residual scan: an object (obj, with the key of the current member) or an array
// (i, the index of the current element).
type pathElem struct {
	obj bool
	key val
	i   int
}

// residualKeysByLen groups idKeys and binaryKeys by length: a plain ASCII key (no escapes) names one of them only
// when it has that length (keyFold is then asciiFoldEq), so it is compared with the few of its length instead of
// going through keyFold for each of the sixty.
var residualKeysByLen [32][]string

func init() {
	for _, l := range [][]string{idKeys, binaryKeys} {
		for _, n := range l {
			if len(n) < len(residualKeysByLen) {
				residualKeysByLen[len(n)] = append(residualKeysByLen[len(n)], n)
			}
		}
	}
}

// residualSkipKey is idKey(b, k) || isBinaryKey(b, k): the residual pass skips the strings of these members.
func residualSkipKey(b []byte, k val) bool {
	raw := b[k.s+1 : k.e-1]
	if len(raw) >= len(residualKeysByLen) || !simpleKey(raw) {
		return idKey(b, k) || isBinaryKey(b, k)
	}
	for _, n := range residualKeysByLen[len(raw)] {
		if asciiFoldEq(raw, n) {
			return true
		}
	}
	return false
}

func isBinaryKey(b []byte, k val) bool {
	for _, n := range binaryKeys {
		if keyFold(b, k, n) {
			return true
		}
	}
	return false
}

func pathString(b []byte, path []pathElem) string {
	var sb strings.Builder
	for _, e := range path {
		if !e.obj {
			sb.WriteString("[" + strconv.Itoa(e.i) + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(keyName(b, e.key))
	}
	return sb.String()
}
