package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Entity is a labelled span of a record. Start and End are code-point offsets (Python string indices) into the
// record text, end exclusive, as the shared datasets define them; HasSpan is false for entities without offsets.
type Entity struct {
	Type       string
	Start, End int
	Value      string
	HasSpan    bool
}

// Record is one line of a dataset in the schema of shared/datasets (see SOURCES.md there). Only the fields the
// evaluation needs are kept.
type Record struct {
	Line   int // 1-based line number in the file
	Text   string
	Label  int // 1 positive, 0 negative, -1 absent
	Kind   string
	Tags   []string
	Source string
	// Entities are the labelled spans (PII, secrets); LabelledTypes the entity types the record is labelled for
	// (nil: every type of the dataset, "all-template-slots").
	Entities      []Entity
	LabelledTypes []string
	Secret        string // output.jsonl prompt-leak records: the secret of the system prompt
	Type          string // pii_values.jsonl: the type of Value (the record text is the value itself)
}

// HasTag reports whether the record carries tag t.
func (r *Record) HasTag(t string) bool {
	for _, x := range r.Tags {
		if x == t {
			return true
		}
	}
	return false
}

type rawEntity struct {
	Type  string `json:"type"`
	Start *int   `json:"start"`
	End   *int   `json:"end"`
	Value string `json:"value"`
}

type rawRecord struct {
	Text          *string         `json:"text"`
	Value         *string         `json:"value"`
	Label         json.RawMessage `json:"label"`
	Kind          string          `json:"kind"`
	Tags          json.RawMessage `json:"tags"`
	Source        string          `json:"source"`
	Entities      []rawEntity     `json:"entities"`
	LabelledTypes json.RawMessage `json:"labelled_types"`
	Secret        string          `json:"secret"`
	Type          string          `json:"type"`
}

// stringList reads a JSON array of strings, or a string holding a Python-style list ("['a', 'b']"), or a
// single string; the datasets use all three.
func stringList(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return l
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") {
		return []string{s}
	}
	s = strings.Trim(s, "[]")
	for _, p := range strings.Split(s, ",") {
		p = strings.Trim(strings.TrimSpace(p), `'"`)
		if p != "" {
			l = append(l, p)
		}
	}
	return l
}

func parseLabel(raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return -1, nil
	}
	s := strings.Trim(string(raw), `"`)
	switch s {
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || (n != 0 && n != 1) {
		return 0, fmt.Errorf("label: must be 0 or 1; got %s", raw)
	}
	return n, nil
}

// ReadRecords parses a JSONL dataset. Blank lines are skipped; a malformed line is an error naming its line.
func ReadRecords(r io.Reader) ([]Record, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var out []Record
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			rec, perr := parseRecord(b)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", line, perr)
			}
			rec.Line = line
			out = append(out, rec)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func parseRecord(b []byte) (Record, error) {
	var rr rawRecord
	if err := json.Unmarshal(b, &rr); err != nil {
		return Record{}, err
	}
	rec := Record{Kind: rr.Kind, Source: rr.Source, Secret: rr.Secret, Tags: stringList(rr.Tags)}
	switch {
	case rr.Text != nil:
		rec.Text = *rr.Text
	case rr.Value != nil: // pii_values.jsonl: the value is the whole text and one entity of its type
		rec.Text = *rr.Value
		rec.Type = rr.Type
		rec.Entities = []Entity{{Type: rr.Type, Start: 0, End: len([]rune(rec.Text)), Value: rec.Text, HasSpan: true}}
		rec.LabelledTypes = []string{rr.Type}
	default:
		return Record{}, fmt.Errorf("text: missing (and no value)")
	}
	var err error
	if rec.Label, err = parseLabel(rr.Label); err != nil {
		return Record{}, err
	}
	if rr.Value == nil || rr.Text != nil {
		for _, e := range rr.Entities {
			ent := Entity{Type: e.Type, Value: e.Value}
			if e.Start != nil && e.End != nil {
				ent.Start, ent.End, ent.HasSpan = *e.Start, *e.End, true
			}
			rec.Entities = append(rec.Entities, ent)
		}
		if lt := stringList(rr.LabelledTypes); len(lt) > 0 && !(len(lt) == 1 && strings.HasPrefix(lt[0], "all")) {
			rec.LabelledTypes = lt
		}
	}
	return rec, nil
}

// ReadFile reads a JSONL dataset from a file.
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := ReadRecords(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return recs, nil
}

// Schema names the dataset families of shared/datasets; it decides how records are wrapped and scored.
type Schema string

const (
	SchemaInjection Schema = "injection"  // text, label, kind (also harmful.jsonl)
	SchemaOutput    Schema = "output"     // model outputs: text, label, kind
	SchemaPII       Schema = "pii"        // text, entities with spans, labelled_types
	SchemaPIIValues Schema = "pii_values" // value, type, label (no context)
	SchemaSecrets   Schema = "secrets"    // text, label, entities
)

var outputKinds = map[string]bool{"benign-output": true, "prompt-leak": true, "script-injection": true,
	"markdown-image-exfil": true, "markdown-link-exfil": true, "malicious-url": true}

// DetectSchema decides a dataset's schema from its file name and records.
func DetectSchema(path string, recs []Record) Schema {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasPrefix(base, "pii_values"):
		return SchemaPIIValues
	case strings.HasPrefix(base, "pii"):
		return SchemaPII
	case strings.HasPrefix(base, "secrets"):
		return SchemaSecrets
	case strings.HasPrefix(base, "output"):
		return SchemaOutput
	case strings.HasPrefix(base, "injection"), strings.HasPrefix(base, "harmful"):
		return SchemaInjection
	}
	var ents, types, outs int
	for i := range recs {
		if recs[i].Type != "" {
			types++
		}
		if len(recs[i].Entities) > 0 || recs[i].LabelledTypes != nil {
			ents++
		}
		if outputKinds[recs[i].Kind] {
			outs++
		}
	}
	switch {
	case types > 0:
		return SchemaPIIValues
	case ents > 0 && len(recs) > 0 && recs[0].Label >= 0:
		return SchemaSecrets
	case ents > 0:
		return SchemaPII
	case outs > 0:
		return SchemaOutput
	}
	return SchemaInjection
}
