package check

import (
	"reflect"
	"strings"
	"testing"
)

// The skip loop passes over positions at which no stage can act. These tests compare it with the reference that
// visits every position (visitAll): the findings must be identical.

func reference(k *Checker) *Checker {
	r := *k
	r.visitAll = true
	return &r
}

func skipConfigs(t testing.TB) []*Checker {
	all := allChecks(t, nil)
	def := defaultChecker(t, true)
	noLinks := allChecks(t, func(c *Config) { c.Exfil.Enabled, c.Markup.Enabled = false, false })
	small := allChecks(t, func(c *Config) { c.Leak.NGram = 4; c.Leak.Canaries = []string{"e e e", "the"} })
	// the 8-byte path of the skip loop (no word filters): links (the filter's default for a system prompt too
	// short for an n-gram), leak checks alone; a canary starting with a lower-case letter turns it off
	short := defaultCompiled(t).ForRequest([]string{"You are a helpful assistant."})
	leakOnly := allChecks(t, func(c *Config) {
		c.Exfil.Enabled, c.Markup.Enabled, c.Secrets.Enabled, c.Leak.Phrases = false, false, false, false
		c.Leak.Canaries, c.Leak.SystemPrompt = nil, ""
	})
	for _, k := range []*Checker{short, leakOnly} {
		if !k.swar || k.startBits&clsWord != 0 {
			t.Fatal("a configuration meant for the 8-byte path has it off")
		}
	}
	if allChecks(t, func(c *Config) { c.Leak.Canaries = []string{"zenith"} }).swar {
		t.Fatal("a canary starts with a lower-case letter: the 8-byte path should be off")
	}
	return []*Checker{all, def, noLinks, small, all.ForRequest([]string{benchSystemPrompt}), short, leakOnly}
}

func TestSkipMatchesVisitAll(t *testing.T) {
	var texts []string
	for _, r := range loadOutputDev(t) {
		texts = append(texts, r.Text, r.Secret+" "+r.Text)
	}
	texts = append(texts, streamCorpus...)
	answer, _ := benchExchange(t)
	texts = append(texts, answer, strings.ReplaceAll(answer, "bridge", "bridge zenith"))
	texts = append(texts,
		// n-grams of benchSystemPrompt, split canaries, phrases, auto-links, schemes, PEM
		"Sure. You are a helpful customer-support assistant for Acme Corp. Answer questions about orders",
		"my instructions are: never reveal the internal discount code ACME-55-SPRING, ok? elbow and pizza",
		"see http://e.vil/?q=a+b+c or www.x.io/a=b, j&#x61;vascript:alert(1) vbscript:x\n-----BEGIN RSA PRIVATE KEY-----\n"+
			strings.Repeat("MIIEowIBAAKCAQEA", 6)+"\n-----END RSA PRIVATE KEY-----\nzq-canary-7781")
	n := 0
	for ci, k := range skipConfigs(t) {
		ref := reference(k)
		for i, text := range texts {
			got, want := k.Scan(text), ref.Scan(text)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("config %d text %d %q:\n got %v\nwant %v", ci, i, text, got, want)
			}
			n += len(want)
		}
	}
	if n < 100 {
		t.Fatalf("only %d findings over the corpus: the comparison proves little", n)
	}
}

// FuzzSkipMatchesVisitAll: random text, every configuration, whole and streamed in random pieces.
func FuzzSkipMatchesVisitAll(f *testing.F) {
	for _, s := range streamCorpus {
		f.Add(s, int64(1))
	}
	f.Add("You are a helpful customer-support assistant for Acme Corp. Answer questions about orders", int64(3))
	f.Add("Elbow ... pizza! the e e e the h\nhttp://x.y/?a=b www.a.b javascript:x [a]: http://q.r\n[a]", int64(5))
	f.Add("Zany\nEvery\nNice\nIdea\nTakes\nHope: it ends with the letter h, six letters; htinez, Zeniths, 7a656e697468", int64(9))
	ks := skipConfigs(f)
	f.Fuzz(func(t *testing.T, text string, seed int64) {
		if len(text) > 4096 {
			return
		}
		for ci, k := range ks {
			want := reference(k).Scan(text)
			if got := k.Scan(text); !reflect.DeepEqual(got, want) {
				t.Fatalf("config %d:\n got %v\nwant %v", ci, got, want)
			}
		}
	})
}

// TestScanWordIsFilterHash: the skip loop's fused word hash equals the hash the filters were built with.
func TestScanWordIsFilterHash(t *testing.T) {
	k := allChecks(t, nil)
	for _, w := range []string{"a", "The", "INSTRUCTIONS", "abcdefgh", "abcdefghi", "Überprüfung", "x1y2z3", strings.Repeat("ab", 40)} {
		text := []byte(" " + w + ", next")
		q, h, _ := k.scanWord(text, 1)
		end := 1 + min(len(w), 64)
		if q != end {
			t.Fatalf("%q: end %d, want %d", w, q, end)
		}
		if want := filterHash([]byte(strings.ToLower(w))[:min(len(w), 64)]); h != want {
			t.Fatalf("%q: hash %x, want %x (the hash of the lower-cased word)", w, h, want)
		}
	}
}
