package piimask

import (
	"testing"

	"github.com/wasmguard/wasmguard/dist/schema"
)

// parseErr is the filter's own configuration parser, as OnPluginStart runs it.
func parseErr(raw []byte) error { _, err := parseConfig(raw); return err }

// TestSchemaMatchesParser: dist/piimask.schema.json accepts a generated config exactly when parseConfig does
// (generated from the schema: enum members, bounds and just outside them, wrong types, unknown keys, per-route
// rules). A key the parser reads that the schema lacks, or a range that differs, fails here.
func TestSchemaMatchesParser(t *testing.T) { schema.TestDifferential(t, "piimask", 3000, parseErr) }

// FuzzSchemaMatchesParser is TestSchemaMatchesParser with the generator's seed chosen by the fuzzer.
func FuzzSchemaMatchesParser(f *testing.F) { schema.FuzzDifferential(f, "piimask", parseErr) }
