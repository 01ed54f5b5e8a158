package gateway

import (
	"errors"
	"log"
	"net/http"
)

// newWasmEngine runs the chain in hostsim VMs. (Wired to the hostsim stream API as it lands.)
func newWasmEngine(cfg *Config, opts Options, logger *log.Logger, client *http.Client) (engine, error) {
	return nil, errors.New("gateway: the hostsim stream API is not available yet")
}
