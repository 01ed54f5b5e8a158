package check

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// FuzzStreamMatchesScan: on any input and any chunking, the stream reports exactly the findings of a whole-text
// scan, releases Apply's text, never holds more than the bound, and nothing panics.
func FuzzStreamMatchesScan(f *testing.F) {
	for _, s := range streamCorpus {
		f.Add(s, int64(1))
	}
	f.Add("<scr<script>ipt>![a](javascript:x)[b]: http://e.vil/?a=1&b=2&c=3&d=4&e=5&f=6\n[b]", int64(7))
	f.Add("`` ` ``` ~~~\n```\n<iframe>\n~~~", int64(3))
	f.Add("www.e.vil/?q=a+b+c www. wwwx https://am9obkBleGFtcGxlLmNvbTEyMzQ1.e.vil/", int64(11))
	f.Add("Zany\nEvery\nNice\nIdea\nTakes\nHope: it ends with the letter h, six letters; htinez, Zeniths, 7a656e697468", int64(9))
	f.Add("&#x6a;avascript&#58;alert(1) eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", int64(5))
	k := allChecks(f, func(c *Config) { c.MaxConstruct = 256 })
	redactAll := func(Finding) bool { return true }
	f.Fuzz(func(t *testing.T, text string, seed int64) {
		if len(text) > 4096 {
			return
		}
		want := k.Scan(text)
		for _, fd := range want {
			if fd.Start < 0 || fd.End > len(text) || fd.Start > fd.End {
				t.Fatalf("finding out of range: %+v (len %d)", fd, len(text))
			}
		}
		cuts := randomCuts(rand.New(rand.NewSource(seed)), len(text))
		got, out, held := streamAll(k, text, cuts, redactAll)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("cuts %v:\n got %v\nwant %v", cuts, got, want)
		}
		if wantText := Apply(text, want, redactAll); out != wantText {
			t.Fatalf("released text\n got %q\nwant %q", out, wantText)
		}
		// bound: the longest construct cap plus the longest chunk and the longest canary/phrase look-ahead
		if held > 256+1100+16 {
			t.Fatalf("held %d bytes", held)
		}
	})
}

// FuzzSchema: the validator never panics on any schema/instance pair and is deterministic.
func FuzzSchema(f *testing.F) {
	f.Add(`{"type":"object","properties":{"a":{"type":"integer","minimum":0}},"required":["a"]}`, `{"a":-1}`)
	f.Add(`{"$defs":{"n":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/n"}]}},"$ref":"#/$defs/n"}`, `null`)
	f.Add(`{"type":"array","items":{"enum":[1,"x",null]},"maxItems":2}`, `[1,"x",2]`)
	f.Add(`{"type":"string","pattern":"^[a-z]+$","minLength":2}`, `"ab1"`)
	f.Fuzz(func(t *testing.T, schema, instance string) {
		s, err := CompileSchema([]byte(schema))
		if err != nil {
			return
		}
		e1 := s.Validate([]byte(instance))
		e2 := s.Validate([]byte(instance))
		if strings.Join(e1, "|") != strings.Join(e2, "|") {
			t.Fatalf("non-deterministic: %v vs %v", e1, e2)
		}
	})
}
