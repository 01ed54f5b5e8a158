package replay

import (
	"os"
	"path/filepath"
)

// RepoRoot walks up from the working directory to the directory holding go.mod ("" when there is none).
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// SharedDatasets is ../shared/datasets relative to the repository root (CI clones the repo with shared/ beside
// it), or $WASMGUARD_DATASETS when set.
func SharedDatasets() string {
	if d := os.Getenv("WASMGUARD_DATASETS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "..", "shared", "datasets")
}
