// Command schemagen writes the filters' JSON Schemas (dist/<filter>.schema.json), Kong's filter metadata
// (dist/<filter>.meta.json) and the combined module's schema (dist/wasmguard.schema.json) from package
// dist/schema. Run it with `go generate ./dist/schema`; TestGeneratedFilesAreCurrent fails when they are stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/wasmguard/wasmguard/dist/schema"
)

func main() {
	out := flag.String("out", "dist", "directory to write the files to")
	flag.Parse()
	files, err := schema.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(*out, n), files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", filepath.Join(*out, n))
	}
}
