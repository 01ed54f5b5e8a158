package replay

import (
	"os"
	"path/filepath"

	"github.com/wasmguard/wasmguard/hostsim"
)

// SharedDatasets is ../shared/datasets relative to the repository root (CI clones the repo with shared/ beside
// it), or $WASMGUARD_DATASETS when set.
func SharedDatasets() string {
	if d := os.Getenv("WASMGUARD_DATASETS"); d != "" {
		return d
	}
	return filepath.Join(hostsim.RepoRoot(), "..", "shared", "datasets")
}
