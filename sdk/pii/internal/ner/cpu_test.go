//go:build linux

package ner

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestSpeedCPU (NER_SPEED=1) reports thread CPU time per 4 KiB of prose for tokenising and tagging: unlike
// wall-clock benchmarks it is not skewed by other jobs on the machine.
func TestSpeedCPU(t *testing.T) {
	if os.Getenv("NER_SPEED") == "" {
		t.Skip("NER_SPEED not set")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	text := []byte(prose)
	sc := new(Scratch)
	measure := func(f func()) time.Duration {
		n := 0
		t0 := threadCPU()
		for threadCPU()-t0 < 300*time.Millisecond {
			f()
			n++
		}
		return (threadCPU() - t0) / time.Duration(n)
	}
	tok := measure(func() { sc.Toks = Tokenize(text, sc.Toks[:0]) })
	tag := measure(func() { DefaultModel.Tag(text, sc) })
	t.Logf("4 KiB prose: tokenise %v, tag %v (%d tokens)", tok, tag, len(sc.Toks))
}
