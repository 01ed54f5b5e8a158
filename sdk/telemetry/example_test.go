package telemetry_test

import (
	"fmt"

	"github.com/wasmguard/wasmguard/sdk/telemetry"
)

func ExampleDecision_String() {
	d := telemetry.Decision{
		Filter: "piimask", Rule: "default", Action: "redact", Reason: "pii_masked", RequestID: "9f1c",
		Findings: []telemetry.Finding{{Type: "email", Segment: 1, Start: 10, End: 27, Score: 1}},
	}
	line := d.String()
	fmt.Println(line)
	back, ok := telemetry.ParseDecision("[info] wasm log piimask: " + line)
	fmt.Println(ok, back.Findings[0].Type, back.Findings[0].End)
	// Output:
	// wasmguard decision {"filter":"piimask","rule":"default","action":"redact","reason":"pii_masked","request_id":"9f1c","findings":[{"type":"email","segment":1,"start":10,"end":27,"score":1}]}
	// true email 27
}

func ExampleTagged() {
	fmt.Println(telemetry.Tagged(telemetry.MetricName("promptguard", "decisions_total"), "action", "block"))
	// Output: wasmguard_promptguard_decisions_total.action.block
}
