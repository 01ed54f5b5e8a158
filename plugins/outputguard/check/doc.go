// Package check holds the pure detection logic of the outputguard filter: it inspects the text an LLM produced
// (assistant message content and tool-call arguments) for
//
//   - exfiltration links: markdown images and links, reference-style links, HTML src/href attributes and bare
//     auto-links whose host is not allow-listed or whose URL carries data-looking payloads;
//   - unsafe markup: <script>, <iframe>, <object>, event-handler attributes, javascript:/vbscript:/data:text/html
//     URLs and style-based tricks;
//   - secret leaks: provider API keys, tokens and private keys;
//   - system-prompt leaks: configured canary strings and secrets the request's system prompt declares, also
//     written in forms that do not contain them whole (encoded, spelled, quoted in pieces, hinted, described:
//     leak.go, leakmore.go), long runs of the system prompt's word n-grams (only hashes are kept), and scored
//     leak phrasing ("my instructions are ...");
//
// and validates JSON output against a JSON Schema subset (see Schema).
//
// One single-pass engine serves whole bodies (Checker.Scan) and streams (Stream): the stream examines every
// position exactly once, as soon as the construct that starts there can be decided, so a link, tag, key or
// canary split across stream chunks at any byte is reported exactly once, with the same offsets as a scan of the
// whole text. Hold-back is bounded (MaxConstruct bytes). The package has no proxywasm import, no regexp on the
// scanning path (user patterns in JSON Schema "pattern" are compiled once, at Compile), and never panics on input.
package check
