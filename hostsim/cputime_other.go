//go:build !linux

package hostsim

import "testing"

// CPUMeter reports nothing where per-thread CPU time is unavailable.
type CPUMeter struct{}

// StartCPU returns a meter that reports nothing on this platform.
func StartCPU(*testing.B) *CPUMeter { return &CPUMeter{} }

// Stop reports nothing on this platform.
func (*CPUMeter) Stop(int) {}
