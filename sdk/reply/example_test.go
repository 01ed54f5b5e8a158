package reply_test

import (
	"fmt"

	"github.com/wasmguard/wasmguard/sdk/llm"
	"github.com/wasmguard/wasmguard/sdk/reply"
)

func ExampleError() {
	headers, body := reply.Error(llm.FormatOpenAIChat, 403, "prompt_injection_detected",
		"the request was blocked by the gateway's prompt-injection policy", "req-7")
	fmt.Println(headers)
	fmt.Println(string(body))
	// Output:
	// [[content-type application/json] [x-wasmguard-reason prompt_injection_detected] [x-request-id req-7]]
	// {"error":{"message":"the request was blocked by the gateway's prompt-injection policy (request id: req-7)","type":"invalid_request_error","param":null,"code":"prompt_injection_detected"}}
}

func ExampleStreamError() {
	fmt.Printf("%q\n", reply.StreamError(llm.FormatAnthropic, "output_blocked", "the answer was blocked", "req-7"))
	// Output:
	// "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"the answer was blocked (reason: output_blocked; request id: req-7)\"}}\n\n"
}
