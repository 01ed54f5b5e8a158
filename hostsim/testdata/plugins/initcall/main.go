// Command initcall defines a metric from a package-level initialiser: a host call
// during _initialize, which Envoy refuses (restricted_callback). Test plugin.
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

var requests = proxywasm.DefineCounterMetric("initcall_requests_total")

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

type vmContext struct{ types.DefaultVMContext }

func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type pluginContext struct{ types.DefaultPluginContext }

func (*pluginContext) NewHttpContext(uint32) types.HttpContext {
	requests.Increment(1)
	return &types.DefaultHttpContext{}
}
