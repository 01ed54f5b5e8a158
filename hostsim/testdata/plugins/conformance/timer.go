package main

import "time"

var sink [][]byte

// startTimerAndGC creates a live Go timer, then allocates enough to start a GC: the
// runtime then polls (poll_oneoff), which real Envoy before cpp-host #533 answers
// with ENOSYS.
func startTimerAndGC() {
	time.AfterFunc(time.Hour, func() {})
	for i := 0; i < 64; i++ {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
}

var goroutineRuns int

// startGoroutine starts a background goroutine; between callbacks it never runs
// (the scheduler only runs inside a callback), so plugins must use proxy_on_tick.
func startGoroutine() {
	go func() {
		for {
			goroutineRuns++
			time.Sleep(time.Millisecond)
		}
	}()
}
