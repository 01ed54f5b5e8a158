package replay

import "github.com/wasmguard/wasmguard/hostsim"

// SharedDatasets is ../shared/datasets relative to the repository root (CI clones the repo with shared/ beside
// it), or $WASMGUARD_DATASETS when set (hostsim.DatasetsDir).
func SharedDatasets() string { return hostsim.DatasetsDir() }
