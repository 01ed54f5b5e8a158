package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestViewIsTheParse: for every request of testdata (the per-format requests and the same-view cases) and every
// set of options the filters use, View of the one shared parse is exactly what ParseRequestWith gives with those
// options, and a body the shared parse cannot read is refused by it (the caller then parses with its options).
func TestViewIsTheParse(t *testing.T) {
	type body struct {
		name, path, ct string
		b              []byte
	}
	var bodies []body
	files, _ := filepath.Glob("testdata/requests/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body{name: f, b: b})
	}
	raw, err := os.ReadFile("testdata/sameview.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c sameViewCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body{name: c.Name, path: c.Path, ct: c.ContentType, b: c.body()})
	}
	// document markers that occur in the bodies, so some user segments become documents
	markers := []string{"<document>", "hello", "look", "Summarise"}
	views := 0
	for _, bd := range bodies {
		for _, o := range []Options{
			{Path: bd.path, DocumentMarkers: markers, ContentType: bd.ct},      // promptguard
			{Path: bd.path, Generic: true, Residual: true, ContentType: bd.ct}, // piimask
			{Path: bd.path}, // tokenbudget, outputguard
			{Path: bd.path, Residual: true, DocumentMarkers: markers},
			{Path: bd.path, DuplicateKeys: DuplicateKeysReject},
		} {
			for _, f := range []Format{FormatUnknown, FormatOpenAIChat} {
				want, werr := ParseRequestWith(f, bd.b, o)
				base, berr := ParseRequestWith(f, bd.b, SharedOptions(o))
				if berr != nil {
					continue // the caller parses with o
				}
				got, ok := base.View(o)
				if !ok {
					t.Fatalf("%s: no view of a shared parse", bd.name)
				}
				if werr != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %+v: view %+v, parse %+v %v", bd.name, o, got, want, werr)
				}
				views++
			}
		}
	}
	if views < 100 {
		t.Fatalf("only %d views compared", views)
	}
	// A view is not a base, and a request parsed with other options cannot give views.
	r, err := ParseRequestWith(FormatUnknown, bodies[0].b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.View(Options{}); ok {
		t.Fatal("view of a request parsed without shared options")
	}
}
