// Package configs holds ready-made gateway configurations for the four wasmguard filters: local.json for
// `hostsim serve` (the default of `make run`, embedded here), envoy.yaml for Envoy and kong.yaml for Kong 3.4-3.10
// (DB-less). The three chain the same filters with the same filter configurations; a test keeps them in step.
package configs

import _ "embed"

// Local is local.json: the four-filter chain in front of the built-in mock LLM upstream on 127.0.0.1:8080.
//
//go:embed local.json
var Local []byte
