//go:build linux

package piimask

import (
	"syscall"
	"time"
)

// cpuNow is the process's user+system CPU time: benchmarks on a shared machine compare CPU time, not wall time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
