package budget

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// HashConsumer returns a short stable digest of a consumer credential (an API key, a bearer token), so
// that the clear value is never stored in shared data, sent to the engine or logged: the first 12 bytes
// of SHA-256(salt || value), hex-encoded (24 characters).
func HashConsumer(salt, value string) string {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(value))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:12])
}

// BearerToken strips an optional "Bearer " (any case) prefix and surrounding spaces from an
// authorization header value.
func BearerToken(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return v
}

// JWTClaim decodes the payload of a JWT (no signature check: verification is another filter's job) and
// returns the claim at path (gjson syntax, e.g. "sub" or "org.id") as a string; ok is false when token is
// not a JWT or the claim is missing or empty.
func JWTClaim(token, path string) (string, bool) {
	token = BearerToken(token)
	first := strings.IndexByte(token, '.')
	if first <= 0 {
		return "", false
	}
	rest := token[first+1:]
	second := strings.IndexByte(rest, '.')
	if second <= 0 {
		return "", false
	}
	payload := rest[:second]
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return "", false
	}
	if !gjson.ValidBytes(raw) {
		return "", false
	}
	r := gjson.GetBytes(raw, path)
	if !r.Exists() {
		return "", false
	}
	var s string
	switch r.Type {
	case gjson.String:
		s = r.Str
	case gjson.Number:
		s = r.Raw
	case gjson.True, gjson.False:
		s = r.Raw
	default:
		return "", false
	}
	if s == "" {
		return "", false
	}
	return s, true
}

// CounterKey builds the storage key of one counter: "<prefix><budget>|<part>|<part>|<period>". Parts are
// sanitised so that a hostile model name cannot forge another key (separators and control bytes become
// '_', long parts are hashed). The window id is not part of a local key (local values carry their window);
// ClusterKey appends it for Redis, where keys expire.
func CounterKey(prefix, budget string, parts []string, p Period) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(budget) + 16*len(parts) + 8)
	b.WriteString(prefix)
	b.WriteString(cleanPart(budget))
	for _, s := range parts {
		b.WriteByte('|')
		b.WriteString(cleanPart(s))
	}
	b.WriteByte('|')
	b.WriteString(p.String())
	return b.String()
}

// ClusterKey is CounterKey with the window id appended, for an engine whose keys expire.
func ClusterKey(counterKey string, window int64) string {
	return counterKey + "|" + strconv.FormatInt(window, 10)
}

const maxPart = 64

func cleanPart(s string) string {
	if len(s) > maxPart {
		return "h:" + HashConsumer("", s)
	}
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == '|' || c == '/' || c == '%' || c >= 0x7f {
			ok = false
			break
		}
	}
	if ok {
		if s == "" {
			return "-"
		}
		return s
	}
	out := []byte(s)
	for i, c := range out {
		if c <= ' ' || c == '|' || c == '/' || c == '%' || c >= 0x7f {
			out[i] = '_'
		}
	}
	return string(out)
}
