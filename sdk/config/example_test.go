package config_test

import (
	"fmt"

	"github.com/wasmguard/wasmguard/sdk/config"
)

type Config struct {
	config.Common
	Threshold float64
	Action    string
}

func parse(o config.Obj) Config {
	return Config{
		Common:    config.ReadCommon(o),
		Threshold: o.Float("threshold", 0.8, 0, 1),
		Action:    o.Enum("action", "block", "block", "redact", "annotate"),
	}
}

func ExampleParseRouted() {
	raw := []byte(`{
	  "threshold": 0.7,
	  "rules": [
	    {"name": "internal", "match": {"host": "*.corp.example"}, "mode": "monitor"},
	    {"name": "batch", "match": {"path_prefix": "/v1/batches", "method": "POST"}, "threshold": 0.95}
	  ]
	}`)
	routed, err := config.ParseRouted(raw, parse)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ri := range []config.RequestInfo{
		{Host: "llm.corp.example", Path: "/v1/chat/completions", Method: "POST"},
		{Host: "api.example.com", Path: "/v1/batches?limit=2", Method: "POST"},
		{Host: "api.example.com", Path: "/v1/chat/completions", Method: "POST"},
	} {
		cfg, rule := routed.Select(&ri)
		fmt.Println(rule, cfg.Mode, cfg.Threshold)
	}
	// Output:
	// internal monitor 0.7
	// batch enforce 0.95
	// default enforce 0.7
}

func ExampleObj_Err() {
	o, _ := config.Parse([]byte(`{"threshold": "high", "action": "hash", "mdoe": "monitor"}`))
	parse(o)
	fmt.Println(o.Err())
	// Output:
	// action: must be one of block, redact, annotate; got "hash"
	// mdoe: unknown key
	// threshold: must be a number between 0 and 1; got "high"
}
