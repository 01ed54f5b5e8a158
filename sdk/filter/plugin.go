package filter

import (
	"errors"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/wasmguard/wasmguard/sdk/config"
)

// LoadConfig reads the plugin configuration (only available inside OnPluginStart) and parses it with
// parse. On failure it logs "<filter>: config: <problem>" at critical level, once per problem of a
// *config.Errors, and returns ok == false: OnPluginStart must then return
// types.OnPluginStartStatusFailed so the host refuses to load a misconfigured filter. An absent or
// empty configuration is passed to parse as nil (config.Parse treats it as {}).
//
//	func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
//		cfg, ok := filter.LoadConfig("piimask", parseConfig)
//		if !ok {
//			return types.OnPluginStartStatusFailed
//		}
//		p.cfg = cfg
//		return types.OnPluginStartStatusOK
//	}
func LoadConfig[T any](filterName string, parse func(raw []byte) (T, error)) (cfg T, ok bool) {
	raw, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogCriticalf("%s: config: read plugin configuration: %v", filterName, err)
		return cfg, false
	}
	cfg, err = parse(raw)
	if err != nil {
		LogConfigError(filterName, err)
		var zero T
		return zero, false
	}
	return cfg, true
}

// LogConfigError logs a configuration error at critical level as "<filter>: config: <problem>", one
// line per problem when err is (or wraps) a *config.Errors.
func LogConfigError(filterName string, err error) {
	var cerr *config.Errors
	if errors.As(err, &cerr) {
		for _, is := range cerr.Issues {
			logConfigLine(filterName, is.String())
		}
		return
	}
	logConfigLine(filterName, err.Error())
}

// logConfigLine avoids "config: config:" for problems with the document itself.
func logConfigLine(filterName, msg string) {
	proxywasm.LogCritical(filterName + ": config: " + strings.TrimPrefix(msg, "config: "))
}
