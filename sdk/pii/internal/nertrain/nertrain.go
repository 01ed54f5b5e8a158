// Package nertrain is the training data and protocol of sdk/pii's NER tagger, shared by the command that
// trains the shipped model (cmd/trainner) and the quality tests that measure the scanner out of fold: which
// records train it, the fold of every record (k folds grouped by generator template: the records of one
// presidio-research template never straddle folds, as they never straddle the dev/holdout split), the
// parameters of the shipped model, and training per fold. It reads files and is never linked into a filter.
package nertrain

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/wasmguard/wasmguard/sdk/pii/internal/ner"
)

// Params are the training parameters of the shipped model.
var Params = ner.Params{Bits: 14, Epochs: 20, Seed: 0x5eed, Bags: 5, Drop: 102, Margin: 60}

// Folds is the number of folds of the out-of-fold figures.
const Folds = 5

// Record is a line of pii.*.jsonl as training reads it.
type Record struct {
	Text     string `json:"text"`
	Entities []struct {
		Type       string `json:"type"`
		Start, End int
	} `json:"entities"`
	Source        string          `json:"source"`
	LabelledTypes json.RawMessage `json:"labelled_types"`
	TemplateID    json.RawMessage `json:"template_id"`
	Trainable     bool            `json:"trainable"`
}

// Item is one usable record: its example, gold spans (byte offsets), fold and source.
type Item struct {
	Neg    bool // an ordinary prompt or answer (no entity labels)
	Ex     ner.Example
	Gold   []ner.Gold
	Fold   int
	Source string
	File   string
}

// TypeIndex is the tagger's index of a type name, or -1.
func TypeIndex(name string) int {
	for i, n := range ner.TypeNames {
		if n == name {
			return i
		}
	}
	return -1
}

// ByteOff converts a code-point offset to a byte offset.
func ByteOff(s string, cp int) int {
	i := 0
	for k := 0; k < cp && i < len(s); k++ {
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return i
}

// Trains reports whether a pii record trains the tagger: trainable and labelled for the NER types.
func (r *Record) Trains() bool { return r.Trainable && nerLabelled(r.LabelledTypes) }

// Fold is the record's fold: a hash of its source and generator template (of its text when it has none).
func (r *Record) Fold() int {
	key := r.Source + "\x00" + string(r.TemplateID)
	if len(r.TemplateID) == 0 || string(r.TemplateID) == "null" {
		key = r.Text
	}
	return foldOf(key)
}

func foldOf(key string) int {
	h := fnv.New32a()
	io.WriteString(h, key)
	return int(h.Sum32() % Folds)
}

// Load reads the NER-labelled trainable records of pii.dev.jsonl and pii.train.jsonl in dir, then the trainable
// label-0 prompts and answers of injection.*.jsonl and output.*.jsonl as texts with no entity.
func Load(dir string) ([]Item, error) {
	var items []Item
	for _, name := range []string{"pii.dev.jsonl", "pii.train.jsonl"} {
		err := eachLine(filepath.Join(dir, name), func(line []byte) error {
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			if !r.Trains() {
				return nil
			}
			var gold []ner.Gold
			for _, e := range r.Entities {
				if k := TypeIndex(e.Type); k >= 0 {
					gold = append(gold, ner.Gold{Type: k, Start: ByteOff(r.Text, e.Start), End: ByteOff(r.Text, e.End)})
				}
			}
			items = append(items, Item{Ex: ner.NewExample([]byte(r.Text), gold), Gold: gold, Fold: r.Fold(), Source: ShortSource(r.Source), File: name})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// ordinary prompts and answers: no entity is labelled in them (see ner.NewNegative)
	for _, name := range []string{"injection.dev.jsonl", "injection.train.jsonl", "output.dev.jsonl", "output.train.jsonl"} {
		err := eachLine(filepath.Join(dir, name), func(line []byte) error {
			var r struct {
				Text      string `json:"text"`
				Label     int    `json:"label"`
				Trainable bool   `json:"trainable"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			if r.Label != 0 || !r.Trainable {
				return nil
			}
			items = append(items, Item{Neg: true, Ex: ner.NewNegative([]byte(r.Text)), Fold: foldOf(r.Text), Source: "benign", File: name})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}

// HeldOutTexts returns the ordinary prompts and answers of an injection or output file that no model trains on:
// label 0, trainable false.
func HeldOutTexts(path string) ([]string, error) {
	var texts []string
	err := eachLine(path, func(line []byte) error {
		var r struct {
			Text      string `json:"text"`
			Label     int    `json:"label"`
			Trainable bool   `json:"trainable"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Label == 0 && !r.Trainable {
			texts = append(texts, r.Text)
		}
		return nil
	})
	return texts, err
}

func eachLine(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return sc.Err()
}

// ShortSource is the file part of a dataset source ("generated_large.json").
func ShortSource(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// nerLabelled: the record is exhaustively labelled for the NER types ("all-template-slots") or lists one.
func nerLabelled(raw json.RawMessage) bool {
	if len(raw) == 0 || raw[0] == '"' {
		return true
	}
	var l []string
	_ = json.Unmarshal(raw, &l)
	for _, x := range l {
		if TypeIndex(x) >= 0 {
			return true
		}
	}
	return false
}

// InputHash fingerprints the training input: parameters, texts, folds and gold tags.
func InputHash(items []Item, p ner.Params) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d %d %d %d %d %d %g\n", p.Bits, p.Epochs, p.Seed, p.Bags, Folds, p.Drop, p.Margin)
	for _, it := range items {
		fmt.Fprintf(h, "%d %q %v %v\n", it.Fold, it.Ex.Text, it.Ex.Gold, it.Ex.Skip)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TrainAll trains on every item: the shipped model.
func TrainAll(items []Item, p ner.Params) *ner.Model {
	ex := make([]ner.Example, len(items))
	for i, it := range items {
		ex[i] = it.Ex
	}
	return ner.Train(ex, p)
}

// TrainFold trains on the items outside fold f: the model that scores fold f out of fold.
func TrainFold(items []Item, p ner.Params, f int) *ner.Model {
	var tr []ner.Example
	for _, it := range items {
		if it.Fold != f {
			tr = append(tr, it.Ex)
		}
	}
	return ner.Train(tr, p)
}
