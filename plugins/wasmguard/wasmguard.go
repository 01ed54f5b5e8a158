// Package wasmguard is the combined module, dist/wasmguard.wasm: the four filters as stages of one
// sdk/filter pipeline, so each body is read, decoded and parsed once per exchange instead of once per
// filter, with one configuration:
//
//	{"promptguard": {...}, "piimask": {...}, "tokenbudget": {...}, "outputguard": {...}}
//
// Each key holds exactly what that filter's own module takes; a missing key turns the stage off, an unknown
// key is refused, and errors name the stage first ("piimask.rules[0].action: ...").
//
// The stage order is fixed and is the order of the equivalent chain of four modules:
//
//	request:  promptguard → piimask → tokenbudget → outputguard
//	response: outputguard → tokenbudget → piimask → promptguard
//
// promptguard judges the client's text as sent (before masking); piimask masks before the budget is
// estimated and before the request leaves; tokenbudget reserves last among the stages that may refuse, so a
// refused request never holds a reservation; outputguard only learns the system prompt from the request.
// On the response outputguard sees the model's answer first (before piimask restores placeholders, so a
// restored value is not reported as a leak), tokenbudget reads usage, piimask restores. Decisions, statuses
// and bytes are those of the chain (combined_test.go runs the same exchanges through both).
package wasmguard

import (
	"github.com/wasmguard/wasmguard/plugins/outputguard"
	"github.com/wasmguard/wasmguard/plugins/piimask"
	"github.com/wasmguard/wasmguard/plugins/promptguard"
	"github.com/wasmguard/wasmguard/plugins/tokenbudget"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

// Name is the combined module's name (its log prefix for configuration errors).
const Name = "wasmguard"

// Stages are the stages in request order.
var Stages = []filter.NewStage{promptguard.New, piimask.New, tokenbudget.New, outputguard.New}
