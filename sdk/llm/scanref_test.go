package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The differential tests of the JSON scanner: the wasm-tuned scanning (json.go, keys.go) against the previous
// implementation kept in jsonref_test.go. The parsers reach a body only through these functions (validate,
// scanString, root, valAt/skipValue/skipString, iter, key matching, unquoting), always at the start of a value of
// a validated body, so the same results there for every value of every body make the same Request: the same
// segments, locations, paths and errors.

// refNames are the names the parsers match keys against: every known field name and the residual pass's
// binary keys, plus names no key in the corpus has.
func refNames() []string {
	var names []string
	for _, l := range knownByLen {
		names = append(names, l...)
	}
	names = append(names, binaryKeys...)
	return append(names, "", "x", "Content", "ſystem", "kelvin\u212a")
}

// checkScanRef compares every scanner function with its reference on body b. It returns how many values it
// compared (0 for a body that is not valid JSON).
func checkScanRef(t testing.TB, b []byte) int {
	t.Helper()
	err, want := validate(b), validateRef(b)
	if (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
		t.Fatalf("validate(%q) = %v, reference %v", b, err, want)
	}
	// scanString is also used on bodies that were not validated (edit locations, the stream fast path).
	for i, c := range b {
		if c != '"' {
			continue
		}
		e, err := scanString(b, i)
		we, werr := scanStringRef(b, i)
		if e != we || (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("scanString(%q, %d) = %d, %v; reference %d, %v", b, i, e, err, we, werr)
		}
		if err == nil {
			if got, want := skipString(b, i), skipStringRef(b, i); got != want {
				t.Fatalf("skipString(%q, %d) = %d, reference %d", b, i, got, want)
			}
		}
	}
	if want != nil {
		return 0
	}
	if got, want := root(b), rootRef(b); got != want {
		t.Fatalf("root(%q) = %+v, reference %+v", b, got, want)
	}
	names := refNames()
	n := 0
	var walk func(v val)
	walk = func(v val) {
		n++
		if got := valAt(b, v.s); got != v {
			t.Fatalf("valAt(%q, %d) = %+v, reference %+v", b, v.s, got, v)
		}
		if got := skipValue(b, v.s); got != v.e {
			t.Fatalf("skipValue(%q, %d) = %d, reference %d", b, v.s, got, v.e)
		}
		switch v.k {
		case kString:
			raw := b[v.s+1 : v.e-1]
			if got, want := indexBackslash(raw), bytes.IndexByte(raw, '\\'); got != want {
				t.Fatalf("indexBackslash(%q) = %d, want %d", raw, got, want)
			}
			if got, want := unquote(b, v), unquoteRef(b, v); got != want {
				t.Fatalf("unquote(%q) = %q, reference %q", b[v.s:v.e], got, want)
			}
			return
		case kObject, kArray:
		default:
			return
		}
		it, ref := v.iter(b), iterRefOf(v, b)
		for {
			k, x, ok := it.next()
			wk, wx, wok := ref.next()
			if k != wk || x != wx || ok != wok {
				t.Fatalf("member of %q: %+v %+v %v, reference %+v %+v %v", b[v.s:v.e], k, x, ok, wk, wx, wok)
			}
			if !ok {
				break
			}
			if v.k == kObject {
				checkKeyRef(t, b, k, names)
			}
			walk(x)
		}
		if v.k == kObject {
			for _, name := range []string{"content", "text", "role", "messages", "x"} {
				got, gok := get(b, v, name)
				want, wok := getRef(b, v, name)
				if got != want || gok != wok {
					t.Fatalf("get(%q, %q) = %+v %v, reference %+v %v", b[v.s:v.e], name, got, gok, want, wok)
				}
			}
			var got, want [4]val
			fields(b, v, got[:], "content", "role", "text", "type")
			fieldsRef(b, v, want[:], "content", "role", "text", "type")
			if got != want {
				t.Fatalf("fields(%q) = %+v, reference %+v", b[v.s:v.e], got, want)
			}
		}
	}
	walk(rootRef(b))
	return n
}

func checkKeyRef(t testing.TB, b []byte, k val, names []string) {
	t.Helper()
	raw := b[k.s:k.e]
	if got, want := keyName(b, k), keyNameRef(b, k); got != want {
		t.Fatalf("keyName(%q) = %q, reference %q", raw, got, want)
	}
	if got, want := residualSkipKey(b, k), idKey(b, k) || isBinaryKey(b, k); got != want {
		t.Fatalf("residualSkipKey(%q) = %v, want %v", raw, got, want)
	}
	gn, ga := keyMatch(b, k)
	wn, wa := keyMatchRef(b, k)
	if gn != wn || ga != wa {
		t.Fatalf("keyMatch(%q) = %q %v, reference %q %v", raw, gn, ga, wn, wa)
	}
	for _, name := range names {
		if got, want := keyIs(b, k, name), keyIsRef(b, k, name); got != want {
			t.Fatalf("keyIs(%q, %q) = %v, reference %v", raw, name, got, want)
		}
		if got, want := keyFold(b, k, name), keyFoldRef(b, k, name); got != want {
			t.Fatalf("keyFold(%q, %q) = %v, reference %v", raw, name, got, want)
		}
	}
}

// scanCorpus is the in-tree corpus: the request and response samples, the streams' events, the same-view cases
// and the benchmark bodies, with each text also wrapped in a chat request (escaped as encoding/json and as this
// package writes strings).
func scanCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, dir := range []string{"requests", "responses"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		for _, f := range files {
			out = append(out, readTestdata(t, filepath.Join(dir, filepath.Base(f))))
		}
	}
	streams, _ := filepath.Glob(filepath.Join("testdata", "streams", "*"))
	for _, f := range streams {
		raw, _ := os.ReadFile(f)
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				out = append(out, bytes.TrimSpace(d))
			}
		}
	}
	for _, c := range readSameView(t) {
		out = append(out, c.body())
	}
	out = append(out, promptBody(3976), chatBody(4<<10), chatBody(64<<10), responseBody(16<<10))
	// Every name the parsers match, as a key: as written, upper-cased, with its first letter escaped, and longer.
	var sb strings.Builder
	sb.WriteString(`{"":0`)
	for _, n := range refNames() {
		if n == "" {
			continue
		}
		fmt.Fprintf(&sb, `,%q:"a",%q:"b",%q:"d"`, n, strings.ToUpper(n), n+"x")
		if n[0] < 0x80 {
			fmt.Fprintf(&sb, `,"\u%04x%s":"c"`, n[0], n[1:])
		}
	}
	sb.WriteString("}")
	if err := validate([]byte(sb.String())); err != nil {
		t.Fatal(err)
	}
	return append(out, []byte(sb.String()))
}

// wrapText returns chat requests that carry text, escaped in two ways.
func wrapText(text string) [][]byte {
	j, _ := json.Marshal(text)
	q := appendQuoted(nil, text)
	return [][]byte{
		[]byte(`{"model":"m","messages":[{"role":"user","content":` + string(j) + `}]}`),
		[]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":` + string(q) + `}]}]}`),
	}
}

// TestScanRef: the scanner agrees with the reference on the in-tree corpus and on each body cut short and with a
// byte changed at every eighth offset (invalid JSON, strings broken at every position of the 8-byte paths).
// With LLM_SCANREF_DATASETS set to a folder of JSONL files (the project's datasets), every line and every
// line's "text" wrapped in a request is compared too.
func TestScanRef(t *testing.T) {
	bodies := scanCorpus(t)
	n := 0
	for _, b := range bodies {
		n += checkScanRef(t, b)
		if len(b) > 4096 {
			continue
		}
		for i := 0; i < len(b); i += 8 {
			checkScanRef(t, b[:i])
			for _, c := range []byte{'"', '\\', 0x01, 0xff, '}', 'u'} {
				m := bytes.Clone(b)
				m[i] = c
				checkScanRef(t, m)
			}
		}
	}
	if n < 2000 {
		t.Fatalf("compared only %d values", n)
	}
	dir := os.Getenv("LLM_SCANREF_DATASETS")
	if dir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) == 0 {
		t.Fatalf("no JSONL files in %s", dir)
	}
	lines, values := 0, 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			line := bytes.Clone(sc.Bytes())
			lines++
			values += checkScanRef(t, line)
			var rec struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Text != "" {
				for _, b := range wrapText(rec.Text) {
					values += checkScanRef(t, b)
				}
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d dataset lines, %d values compared", lines, values)
}

// FuzzScanRef: the scanner agrees with the reference on any input, as a body and as the text of a request.
func FuzzScanRef(f *testing.F) {
	for _, b := range scanCorpus(f) {
		if len(b) <= 8192 {
			f.Add(b)
		}
	}
	for _, s := range []string{"\"0123456789abcdefZürich “quoted” text\\n and more ascii\"", "\"0123456789abcdef\xe2\x80 broken\"",
		"\"0123456789abcdef\x01 control\"", "{\"key_long_enough\":\"value_long_enough\\\"quote\"}", "\"abcdefgh\xed\xa0\x80ijklmnop\"",
		`{"c\u006fntent":"a\\\"b","ROLE":"user","meſſages":[1,2e5,-0.5,true,false,null,"x\ud83d\ude00y\ud800"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkScanRef(t, b)
		for _, w := range wrapText(string(b)) {
			checkScanRef(t, w)
		}
	})
}
