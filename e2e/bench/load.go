package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Load is the outcome of a load run against one URL.
type Load struct {
	Tool     string        `json:"tool"`
	Seconds  float64       `json:"seconds"`
	Conc     int           `json:"concurrency"`
	Requests int           `json:"requests"`
	Errors   int           `json:"errors"` // transport errors and non-200 answers
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
}

// LoadTool returns the load generator to use: hey, else wrk, else the built-in one ("builtin").
func LoadTool() string {
	for _, t := range []string{"hey", "wrk"} {
		if _, err := exec.LookPath(t); err == nil {
			return t
		}
	}
	return "builtin"
}

// RunLoad posts body to url with conc concurrent clients for dur and measures throughput and latency.
func RunLoad(ctx context.Context, tool, url string, body []byte, dur time.Duration, conc int) (Load, error) {
	switch tool {
	case "hey":
		return runHey(ctx, url, body, dur, conc)
	case "wrk":
		return runWrk(ctx, url, body, dur, conc)
	}
	return runBuiltin(ctx, url, body, dur, conc)
}

func writeTemp(data []byte, pattern string) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.Write(data)
	return f.Name(), err
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reHeyPct  = regexp.MustCompile(`(\d+)% in ([0-9.]+) secs`)
	reHeyCode = regexp.MustCompile(`\[(\d+)\]\s+(\d+) responses`)
)

func runHey(ctx context.Context, url string, body []byte, dur time.Duration, conc int) (Load, error) {
	f, err := writeTemp(body, "bench-body-*.json")
	if err != nil {
		return Load{}, err
	}
	defer os.Remove(f)
	cmd := exec.CommandContext(ctx, "hey", "-z", dur.String(), "-c", strconv.Itoa(conc), "-m", "POST",
		"-T", "application/json", "-D", f, "-disable-keepalive=false", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Load{}, fmt.Errorf("hey: %w\n%s", err, out)
	}
	l := Load{Tool: "hey", Seconds: dur.Seconds(), Conc: conc}
	s := string(out)
	if m := reRPS.FindStringSubmatch(s); m != nil {
		l.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range reHeyPct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(v * float64(time.Second))
		switch m[1] {
		case "50":
			l.P50 = d
		case "99":
			l.P99 = d
		}
	}
	for _, m := range reHeyCode.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[2])
		l.Requests += n
		if m[1] != "200" {
			l.Errors += n
		}
	}
	if i := strings.Index(s, "Error distribution:"); i >= 0 {
		for _, m := range regexp.MustCompile(`\[(\d+)\]`).FindAllStringSubmatch(s[i:], -1) {
			n, _ := strconv.Atoi(m[1])
			l.Errors += n
			l.Requests += n
		}
	}
	if l.RPS == 0 {
		return l, fmt.Errorf("hey: could not read its report:\n%s", s)
	}
	return l, nil
}

var reWrkPct = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)`)

func runWrk(ctx context.Context, url string, body []byte, dur time.Duration, conc int) (Load, error) {
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = %q\n", string(body))
	f, err := writeTemp([]byte(lua), "bench-*.lua")
	if err != nil {
		return Load{}, err
	}
	defer os.Remove(f)
	cmd := exec.CommandContext(ctx, "wrk", "-t", "2", "-c", strconv.Itoa(conc), "-d", fmt.Sprintf("%ds", int(dur.Seconds()+0.5)),
		"-s", f, "--latency", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Load{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	s := string(out)
	l := Load{Tool: "wrk", Seconds: dur.Seconds(), Conc: conc}
	if m := reRPS.FindStringSubmatch(s); m != nil {
		l.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range reWrkPct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		if m[1] == "50" {
			l.P50 = time.Duration(v * float64(unit))
		} else {
			l.P99 = time.Duration(v * float64(unit))
		}
	}
	if m := regexp.MustCompile(`(\d+) requests in`).FindStringSubmatch(s); m != nil {
		l.Requests, _ = strconv.Atoi(m[1])
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindStringSubmatch(s); m != nil {
		l.Errors, _ = strconv.Atoi(m[1])
	}
	if l.RPS == 0 {
		return l, fmt.Errorf("wrk: could not read its report:\n%s", s)
	}
	return l, nil
}

// runBuiltin is a small closed-loop load generator for machines without hey or wrk.
func runBuiltin(ctx context.Context, url string, body []byte, dur time.Duration, conc int) (Load, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, Proxy: nil}, Timeout: 30 * time.Second}
	deadline := time.Now().Add(dur)
	var mu sync.Mutex
	var lats []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				lats = append(lats, d)
				if !ok {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	l := Load{Tool: "builtin", Seconds: el.Seconds(), Conc: conc, Requests: len(lats), Errors: errs}
	if len(lats) > 0 {
		l.RPS = float64(len(lats)) / el.Seconds()
		l.P50 = Percentile(lats, 50)
		l.P99 = Percentile(lats, 99)
	}
	return l, ctx.Err()
}
