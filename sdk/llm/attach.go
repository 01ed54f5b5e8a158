package llm

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"unsafe"
)

// Attachments: files, images and audio sent in a request, by reference (a URL or an uploaded file's id the
// provider fetches: a remote Attachment) or inline as a data: URL ("data:<mime>;base64,…": OpenAI
// image_url, file_data, Anthropic and Responses URL sources) or as base64 data with a media type (Anthropic
// source {"type": "base64"}, Gemini inlineData, OpenAI input_audio). The provider decodes them and the model reads
// them. One of a textual media type (text/*, JSON, XML, YAML, CSV...; a data: URL without one is text/plain, RFC
// 2397) is decoded into a segment: provenance document in a message's content (assistant in the model's own
// turns; the provenance of the field otherwise, e.g. tool_result in a tool output), Path naming the field, and an Encoding (EncodingDataURL, or
// EncodingBase64 for bare base64) with which Segment.Edit writes new text back encoded as it came. Data that does
// not decode is ErrUnreadable. One of any other media type (images, PDFs, audio, office documents) no text filter
// can read: it is an Attachment on Request.Attachments, so a filter can apply a policy to what it cannot see
// instead of passing it silently. Decoded text is never longer than its encoded form, so all decoded segments
// together stay within the body's size.

// Attachment is inline content of a request that is not text: an image, a PDF, audio, an office document, or a
// file of an unknown type. Its bytes are not decoded.
type Attachment struct {
	Message int // as Segment.Message
	Part    int // as Segment.Part
	// Path names the field holding the data: "image_url.url", "file.file_data", "file_data", "input_audio.data",
	// "source.data", "inlineData.data", or the JSON path of a data: URL in a tool output.
	Path string
	// MediaType is the media type the client declared, lower-cased without parameters ("image/png",
	// "application/pdf", "audio/wav"); "" when it declared none.
	MediaType string
	// Bytes is the length of the encoded data in the body (0 for a remote one).
	Bytes int
	// Remote is true for content the provider fetches itself, which is not in the body: an image or file URL
	// (https://…), an uploaded file's id (OpenAI file_id, Anthropic source {"type": "file"}), a Gemini fileUri.
	// Path names the field holding the URL or id.
	Remote bool
}

// docProv is the provenance of a text attachment in content of provenance prov: document (a file is third-party
// content whoever attaches it), except in the model's own turns.
func docProv(prov Provenance) Provenance {
	if prov == ProvAssistant {
		return prov
	}
	return ProvDocument
}

// fail records the first error of a read that has no error return (data URLs in tool outputs, URL fields); the
// request parse returns it.
func (s *segs) fail(err error) {
	if s.errp != nil && *s.errp == nil {
		*s.errp = err
	}
}

func (s *segs) attach(msg, part int, path, mime string, n int) {
	if s.atts == nil {
		return
	}
	*s.atts = append(*s.atts, Attachment{Message: msg, Part: part, Path: path, MediaType: mime, Bytes: n})
}

// remote records content the provider fetches by URL or file id.
func (s *segs) remote(msg, part int, path, mime string) {
	if s.atts == nil {
		return
	}
	*s.atts = append(*s.atts, Attachment{Message: msg, Part: part, Path: path, MediaType: mediaType(mime), Remote: true})
}

// fileIDs records every copy of member key of o that is a non-empty string (an uploaded file's id or URI) as
// remote.
func (s *segs) fileIDs(o val, key string, msg, part int, path, mime string) {
	for c := copiesOf(s.b, o, key); ; {
		x, ok := c.next()
		if !ok {
			return
		}
		if x.k == kString && x.e-x.s > 2 {
			s.remote(msg, part, path, mime)
		}
	}
}

// dataURL reads a string that holds a data: URL (the caller checked the prefix): a textual one is a segment with
// Encoding EncodingDataURL, any other an attachment.
func (s *segs) dataURL(x val, msg, part int, role string, prov Provenance, tool, path string) {
	raw := s.b[x.s+1 : x.e-1]
	var mime, payload string
	var b64 bool
	var data []byte // the payload as bytes, without a copy when the token has no escapes
	if c := bytes.IndexByte(raw, ','); c >= 0 && bytes.IndexByte(raw, '\\') < 0 {
		mime, b64, _, _ = parseDataURL(string(raw[:c+1]))
		if !isTextMime(mime) { // known without copying the data (a PDF can be megabytes)
			s.attach(msg, part, path, mime, len(raw)-c-1)
			return
		}
		data = raw[c+1:]
	} else {
		var ok bool
		if mime, b64, payload, ok = parseDataURL(unquote(s.b, x)); !ok {
			s.fail(fmt.Errorf("%w: %s: a data: URL without a comma", ErrUnreadable, path))
			return
		}
		if !isTextMime(mime) {
			s.attach(msg, part, path, mime, len(payload))
			return
		}
		data = unsafe.Slice(unsafe.StringData(payload), len(payload)) // read only
	}
	var text string
	if b64 {
		dec, ok := decodeBase64(data)
		if !ok {
			s.fail(fmt.Errorf("%w: %s: %s data is not base64", ErrUnreadable, path, mime))
			return
		}
		text = bytesString(dec)
	} else {
		t, err := url.PathUnescape(string(data))
		if err != nil {
			s.fail(fmt.Errorf("%w: %s: %s data is not percent-encoded", ErrUnreadable, path, mime))
			return
		}
		text = t
	}
	s.list = append(s.list, Segment{
		Index: len(s.list), Message: msg, Part: part, Role: role, Provenance: prov, Text: text,
		Loc: Loc{x.s, x.e}, Tool: tool, Path: path, Encoding: EncodingDataURL,
	})
}

// bytesString returns b as a string without a copy; b must not be used after.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// isDataURL reports whether the string token x starts with "data:" (any case).
func isDataURL(b []byte, x val) bool { return x.k == kString && hasPrefixFold(b[x.s+1:x.e-1], "data:") }

// fileData reads a file_data value (OpenAI chat "file", Responses input_file): a data: URL, or (accepted by some
// OpenAI-compatible servers) bare base64 of a type the part does not say, an attachment.
func (s *segs) fileData(x val, msg, part int, role string, prov Provenance, tool, path string) {
	switch {
	case isDataURL(s.b, x):
		s.dataURL(x, msg, part, role, prov, tool, path)
	case x.k == kString && x.e-x.s > 2:
		s.attach(msg, part, path, "", x.e-x.s-2)
	}
}

// binaryList records base64 images sent as a list (Ollama "images": ["<base64>", …]; llama.cpp "image_data":
// [{"data": "<base64>", "id": 1}] and "multimodal_data") as attachments of no declared type.
func (s *segs) binaryList(v val, msg int, path string) {
	if v.k == kString {
		if v.e-v.s > 2 {
			s.attach(msg, -1, path, "", v.e-v.s-2)
		}
		return
	}
	if v.k != kArray {
		return
	}
	it := v.iter(s.b)
	for k := 0; ; k++ {
		_, x, ok := it.next()
		if !ok {
			return
		}
		switch x.k {
		case kString:
			if x.e-x.s > 2 {
				s.attach(msg, -1, idx(path, k), "", x.e-x.s-2)
			}
		case kObject:
			for c := copiesOf(s.b, x, "data"); ; {
				d, ok := c.next()
				if !ok {
					break
				}
				if d.k == kString && d.e-d.s > 2 {
					s.attach(msg, -1, idx(path, k)+".data", "", d.e-d.s-2)
				}
			}
		}
	}
}

// inputAudio records every copy of input_audio.data (OpenAI chat) as an attachment.
func (s *segs) inputAudio(v val, msg, part int) {
	format := ""
	if f := getStr(s.b, v, "format"); f != "" {
		format = "audio/" + strings.ToLower(f)
	}
	for c := copiesOf(s.b, v, "data"); ; {
		x, ok := c.next()
		if !ok {
			return
		}
		if x.k == kString && x.e-x.s > 2 {
			s.attach(msg, part, "input_audio.data", format, x.e-x.s-2)
		}
	}
}

// base64Data reads every copy of member "data" of an object with a media type member (Anthropic source
// {"type": "base64", "media_type", "data"}, Gemini inlineData {"mimeType", "data"}): of a textual type, the
// decoded text is a segment with Encoding base64 (Loc the base64 string), data that does not decode an
// ErrUnreadable error; of any other type an attachment.
// path is the segment's and attachment's Path, where the JSON path of the object for errors.
func (s *segs) base64Data(v val, mime string, msg, part int, role string, prov Provenance, tool, path, where string) error {
	b := s.b
	for c := copiesOf(b, v, "data"); ; {
		x, ok := c.next()
		if !ok {
			return nil
		}
		if x.k != kString {
			continue
		}
		if !isTextMime(mime) {
			s.attach(msg, part, path, mediaType(mime), x.e-x.s-2)
			continue
		}
		data := b[x.s+1 : x.e-1]
		if bytes.IndexByte(data, '\\') >= 0 {
			data = []byte(unquote(b, x))
		}
		dec, ok := decodeBase64(data)
		if !ok {
			return fmt.Errorf("%w: %s.data: %s data is not base64", ErrUnreadable, where, mime)
		}
		s.list = append(s.list, Segment{
			Index: len(s.list), Message: msg, Part: part, Role: role, Provenance: prov, Text: bytesString(dec),
			Loc: Loc{x.s, x.e}, Tool: tool, Path: path, Encoding: EncodingBase64,
		})
	}
}

// decodeBase64 decodes base64 in the standard or the URL alphabet, padded or not (line breaks are ignored), into a
// new slice.
func decodeBase64(src []byte) ([]byte, bool) {
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(src))) // ≥ what any of the four decodes writes
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if n, err := enc.Decode(dst, src); err == nil {
			return dst[:n], true
		}
	}
	t := bytes.TrimRight(src, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if n, err := enc.Decode(dst, t); err == nil {
			return dst[:n], true
		}
	}
	return nil, false
}

// parseDataURL splits a data: URL, "data:[<mediatype>][;base64],<data>" (RFC 2397): mime is the media type
// lower-cased without parameters ("text/plain" when there is none), b64 whether the data is base64, payload the
// data as written. ok is false when u is not a data: URL or has no comma.
func parseDataURL(u string) (mime string, b64 bool, payload string, ok bool) {
	if len(u) < 5 || !strings.EqualFold(u[:5], "data:") {
		return "", false, "", false
	}
	comma := strings.IndexByte(u, ',')
	if comma < 0 {
		return "", false, "", false
	}
	meta := u[5:comma]
	if len(meta) >= 7 && strings.EqualFold(meta[len(meta)-7:], ";base64") {
		b64 = true
		meta = meta[:len(meta)-7]
	}
	mime = mediaType(meta)
	if mime == "" {
		mime = "text/plain"
	}
	return mime, b64, u[comma+1:], true
}

// mediaType returns a media type lower-cased, without parameters and white space.
func mediaType(m string) string {
	if i := strings.IndexByte(m, ';'); i >= 0 {
		m = m[:i]
	}
	return strings.ToLower(strings.TrimSpace(m))
}

// dataURLEdit returns the string a data: URL edit writes: the URL's prefix ("data:<mime>[;params][;base64],") as
// it was, then text encoded as the URL encoded its data (base64, or percent-encoded). ok is false when old is
// not a data: URL.
func dataURLEdit(old, text string) (string, bool) {
	_, b64, _, ok := parseDataURL(old)
	if !ok {
		return "", false
	}
	prefix := old[:strings.IndexByte(old, ',')+1]
	if b64 {
		return prefix + base64.StdEncoding.EncodeToString([]byte(text)), true
	}
	return prefix + url.PathEscape(text), true
}
