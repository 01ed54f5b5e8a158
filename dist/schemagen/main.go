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
	flexImpl := flag.Bool("flex-impl", false, "write dist/flex/<filter>-implementation.yaml from the built dist/<filter>.wasm instead")
	flag.Parse()
	if *flexImpl {
		for _, f := range schema.Filters {
			wasm, err := os.ReadFile(filepath.Join(*out, f+".wasm"))
			if err != nil {
				fmt.Fprintln(os.Stderr, "schemagen: -flex-impl needs the built modules (make build):", err)
				os.Exit(1)
			}
			b, err := schema.FlexImplementation(f, wasm)
			if err == nil {
				err = os.MkdirAll(filepath.Join(*out, "flex"), 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(*out, "flex", f+"-implementation.yaml"), b, 0o644)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "schemagen:", err)
				os.Exit(1)
			}
			fmt.Println("wrote", filepath.Join(*out, "flex", f+"-implementation.yaml"))
		}
		return
	}
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
		if err := os.MkdirAll(filepath.Dir(filepath.Join(*out, n)), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(*out, n), files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", filepath.Join(*out, n))
	}
}
