// Package replay runs labelled dataset records (the JSONL schema of shared/datasets) through a real built filter
// in the hostsim proxy-wasm host and scores what the filter decided. It backs `hostsim replay` and `make eval`.
//
// Each record is wrapped in a realistic OpenAI chat completions exchange (Wrap), the same way for every file of a
// schema; the filter's decisions are read from its telemetry decision log lines; Score turns outcomes into
// per-group confusion counts (kinds for injection and output files, entity types for PII with span-level
// matching, secret/negative for the secrets file) and Report is the JSON issue 7 specifies.
package replay
