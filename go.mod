module github.com/wasmguard/wasmguard

go 1.24.0

require (
	github.com/klauspost/compress v1.19.2
	github.com/proxy-wasm/proxy-wasm-go-sdk v0.0.0-20260105142703-44c7d5847745
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.2
	github.com/tetratelabs/wazero v1.11.0
	github.com/tidwall/gjson v1.20.0
	github.com/tiktoken-go/tokenizer v0.7.0
	github.com/valyala/fastjson v1.6.10
	golang.org/x/text v0.34.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/dlclark/regexp2 v1.11.5 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
)
