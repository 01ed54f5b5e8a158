//go:build !wasm

package wasmguard

import (
	"testing"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/proxytest"

	"github.com/wasmguard/wasmguard/dist/schema"
	"github.com/wasmguard/wasmguard/sdk/filter"
)

// TestSchemaMatchesParser: dist/wasmguard.schema.json accepts a generated combined configuration exactly when the
// combined module's own Configure does (each stage's key absent, null, a generated config of that filter or a wrong
// type; unknown stage keys). Configure defines metrics, so it runs inside the SDK's host emulator.
func TestSchemaMatchesParser(t *testing.T) {
	_, reset := proxytest.NewHostEmulator(proxytest.NewEmulatorOption())
	defer reset()
	schema.TestDifferentialCombined(t, 1000, func(raw []byte) error {
		_, err := filter.Configure(Stages, true, raw)
		return err
	})
}
