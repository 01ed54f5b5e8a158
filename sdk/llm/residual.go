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
	if len(p.b) == 0 {
		return
	}
	covered := make([]int, len(p.req.Segments))
	for i := range p.req.Segments {
		covered[i] = p.req.Segments[i].Loc.Start
	}
	slices.Sort(covered)
	var path []pathElem
	s := p.sg()
	walkResidual(s, r, &path, covered)
	p.req.Segments = s.list
}

type pathElem struct {
	key val // kind kNone for an array index
	i   int
}

func walkResidual(s *segs, v val, path *[]pathElem, covered []int) {
	b := s.b
	switch v.k {
	case kString:
		if _, found := slices.BinarySearch(covered, v.s); found || hasPrefixFold(b[v.s+1:v.e-1], "data:") {
			return
		}
		s.add(-1, -1, "", ProvMetadata, v, "", pathString(b, *path))
	case kObject, kArray:
		it := v.iter(b)
		for i := 0; ; i++ {
			k, x, ok := it.next()
			if !ok {
				return
			}
			if x.k != kString && x.k != kObject && x.k != kArray {
				continue
			}
			if v.k == kObject && x.k == kString && (idKey(b, k) || isBinaryKey(b, k)) {
				continue
			}
			*path = append(*path, pathElem{key: k, i: i})
			if v.k != kObject {
				(*path)[len(*path)-1].key = val{}
			}
			walkResidual(s, x, path, covered)
			*path = (*path)[:len(*path)-1]
		}
	}
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
		if e.key.k == kNone {
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
