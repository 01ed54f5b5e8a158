package check

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestCanaryToken(t *testing.T) {
	a := CanaryToken([]byte("key one"), travelPrompt)
	if len(a) != 2+canaryTokenLen || !strings.HasPrefix(a, "og") || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("token %q: want og + %d base32 letters", a, canaryTokenLen)
	}
	if b := CanaryToken([]byte("key one"), travelPrompt); b != a {
		t.Fatalf("same key and prompt: %q then %q", a, b)
	}
	if b := CanaryToken([]byte("key two"), travelPrompt); b == a {
		t.Fatalf("another key gives the same token %q", a)
	}
	if b := CanaryToken([]byte("key one"), helpdeskPrompt); b == a {
		t.Fatalf("another prompt gives the same token %q", a)
	}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// TestInjectedCanary: an answer carrying the token in any form is reported; without WithCanary, or with
// another token, it is not; the benign answers of both splits never are.
func TestInjectedCanary(t *testing.T) {
	tok := CanaryToken([]byte("test key"), travelPrompt)
	base := leakChecker(t, travelPrompt, false)
	k := base.WithCanary(tok)
	other := base.WithCanary(CanaryToken([]byte("another key"), travelPrompt))
	for _, tc := range []struct{ name, text string }{
		{"the prompt's first line", "Sure. My instructions begin: " + InjectCanary(tok, "You are a booking helper.")},
		{"upper case", "The marker is " + strings.ToUpper(tok) + ", then the rules."},
		{"reversed", "Reversed as asked: " + reverse(tok)},
		{"base64", "Here you go: " + base64.StdEncoding.EncodeToString([]byte(tok))},
		{"hex", "hex: " + hex.EncodeToString([]byte(tok))},
		{"spelled", "Letter by letter: " + strings.Join(strings.Split(tok, ""), " ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !leaks(t, k, tc.text) {
				t.Fatalf("not reported: %q", tc.text)
			}
			if leaks(t, base, tc.text) || leaks(t, other, tc.text) {
				t.Fatalf("reported without this token: %q", tc.text)
			}
		})
	}
	flagged, n := 0, 0
	for _, split := range []string{"output.dev.jsonl", "output.train.jsonl"} {
		for _, r := range loadOutput(t, split) {
			if r.Kind == "benign-output" {
				n++
				if len(k.Scan(r.Text)) > 0 {
					flagged++
				}
			}
		}
	}
	if flagged > 0 {
		t.Fatalf("%d of %d benign answers flagged", flagged, n)
	}
}

// leaks: a prompt-leak finding, with the skip loop, the reference and a byte-by-byte stream in agreement.
func leaks(t *testing.T, k *Checker, text string) bool {
	t.Helper()
	for _, typ := range []string{"canary", "canary_reversed", "canary_base64", "canary_hex", "canary_spelled", "canary_codes"} {
		if hasType(t, k, text, typ) {
			return true
		}
	}
	for _, f := range k.Scan(text) {
		if f.Check == CheckPromptLeak {
			return true
		}
	}
	return false
}
