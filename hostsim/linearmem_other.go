//go:build !(linux || darwin || freebsd)

package hostsim

import "github.com/tetratelabs/wazero/experimental"

// reserveMemory reserves nothing here: linear memories grow by copying (growingMemory).
func reserveMemory(uint64) experimental.LinearMemory { return nil }
