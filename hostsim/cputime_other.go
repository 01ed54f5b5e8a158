//go:build !linux

package hostsim

import (
	"testing"
	"time"
)

// CPUMeter reports nothing where per-thread CPU time is unavailable.
type CPUMeter struct{}

// StartCPU returns a meter that reports nothing on this platform.
func StartCPU(*testing.B) *CPUMeter { return &CPUMeter{} }

// Stop reports nothing on this platform.
func (*CPUMeter) Stop(int) {}

var clockBase = time.Now()

// callClock is the clock allocation samples are timed with: wall time here (no per-thread CPU clock).
func callClock() time.Duration { return time.Since(clockBase) }
