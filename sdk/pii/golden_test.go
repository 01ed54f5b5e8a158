package pii

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/dev_matches.golden from the current scanner")

// goldenMatches scans every dev-set record (texts of pii and secrets, values of pii_values) with all types
// enabled and writes one line per record: the dataset, the record number and every match as TYPE:start-end
// (byte offsets). It holds no raw values.
func goldenMatches(t *testing.T) []byte {
	t.Helper()
	s := New(All(), nil)
	var out bytes.Buffer
	var dst []Match
	for _, ds := range []struct{ file, field string }{
		{"pii.dev.jsonl", "text"}, {"secrets.dev.jsonl", "text"}, {"pii_values.dev.jsonl", "value"},
	} {
		n := 0
		readJSONL(t, datasetPath(t, ds.file), func(line []byte) {
			n++
			var rec map[string]any
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatalf("%s:%d: %v", ds.file, n, err)
			}
			text, _ := rec[ds.field].(string)
			dst = s.Scan([]byte(text), dst[:0])
			fmt.Fprintf(&out, "%s:%d", strings.TrimSuffix(ds.file, ".dev.jsonl"), n)
			for _, m := range dst {
				fmt.Fprintf(&out, " %s:%d-%d", m.Name(), m.Start, m.End)
			}
			out.WriteByte('\n')
		})
	}
	return out.Bytes()
}

// TestGoldenDevMatches is a differential test: the matches of every dev-set record must equal the ones the
// scanner produced before the speed work (testdata/dev_matches.golden). A deliberate change of behaviour
// regenerates the file with `go test -run TestGoldenDevMatches -update-golden ./sdk/pii` and shows in the diff.
func TestGoldenDevMatches(t *testing.T) {
	got := goldenMatches(t)
	path := filepath.Join("testdata", "dev_matches.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	if len(gl) != len(wl) {
		t.Fatalf("record count changed: got %d lines, want %d", len(gl), len(wl))
	}
	bad := 0
	for i := range gl {
		if gl[i] != wl[i] {
			if bad++; bad <= 20 {
				t.Errorf("got  %s\nwant %s", gl[i], wl[i])
			}
		}
	}
	t.Errorf("%d records differ from the golden matches", bad)
}
