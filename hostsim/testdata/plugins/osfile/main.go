// Command osfile reads a file with the os package: it imports WASI file functions
// (path_open, fd_filestat_get, ...) that Envoy before cpp-host #533 and Kong do not
// offer, so it must be refused at load. Test plugin.
package main

import (
	"os"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func main() {}

func init() { proxywasm.SetVMContext(&vmContext{}) }

type vmContext struct{ types.DefaultVMContext }

func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &pluginContext{} }

type pluginContext struct{ types.DefaultPluginContext }

func (*pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	if fi, err := os.Stat("/etc/hostname"); err == nil {
		proxywasm.LogInfof("size %d", fi.Size())
	}
	entries, _ := os.ReadDir("/tmp")
	b, err := os.ReadFile("/etc/passwd")
	proxywasm.LogInfof("read %d %v %d", len(b), err, len(entries))
	return types.OnPluginStartStatusOK
}
