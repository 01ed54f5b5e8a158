//go:build linux

package main

import (
	"runtime"
	"syscall"
	"testing"
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

// cpuMeter reports "cpu-MB/s" (bytes per CPU second of the benchmark's thread) for a benchmark that set its bytes.
type cpuMeter struct {
	b     *testing.B
	start float64
	ok    bool
}

func startCPU(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	m := &cpuMeter{b: b}
	m.start, m.ok = threadCPU()
	return m
}

func (m *cpuMeter) stop(bytesPerOp int) {
	end, ok := threadCPU()
	runtime.UnlockOSThread()
	if !m.ok || !ok || end <= m.start {
		return
	}
	m.b.ReportMetric(float64(bytesPerOp)*float64(m.b.N)/(end-m.start)/1e6, "cpu-MB/s")
	m.b.ReportMetric((end-m.start)*1e9/float64(m.b.N), "cpu-ns/op")
}
