//go:build linux

package hostsim

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time of the calling OS thread (RUSAGE_THREAD), so benchmarks on a shared, loaded
// machine can report throughput per CPU second next to the (noisy) wall-clock figure.
func threadCPU() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6, true
}

// CPUMeter reports "cpu-MB/s" (bytes per CPU second of the benchmark's thread) and "cpu-ns/op" for a benchmark.
type CPUMeter struct {
	b     *testing.B
	start float64
	ok    bool
}

// StartCPU locks the benchmark to its OS thread and starts measuring that thread's CPU time.
func StartCPU(b *testing.B) *CPUMeter {
	runtime.LockOSThread()
	m := &CPUMeter{b: b}
	m.start, m.ok = threadCPU()
	return m
}

// Stop unlocks the thread and reports the CPU figures for bytesPerOp bytes per iteration.
func (m *CPUMeter) Stop(bytesPerOp int) {
	end, ok := threadCPU()
	runtime.UnlockOSThread()
	if !m.ok || !ok || end <= m.start {
		return
	}
	m.b.ReportMetric(float64(bytesPerOp)*float64(m.b.N)/(end-m.start)/1e6, "cpu-MB/s")
	m.b.ReportMetric((end-m.start)*1e9/float64(m.b.N), "cpu-ns/op")
}

// callClock is the clock allocation samples are timed with: the calling thread's CPU time
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID), nanoseconds); wazero runs the guest on the calling thread.
func callClock() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}
