package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wasmguard/wasmguard/hostsim/gateway"
)

func init() {
	register(command{name: "mock", summary: "serve the mock LLM upstream alone (OpenAI, Anthropic, Gemini; JSON and SSE)", run: runMock})
}

const mockUsage = `usage: hostsim mock [flags]

Serves the built-in mock LLM upstream on its own, e.g. as the upstream of a real Envoy or Kong running the
filters: OpenAI chat completions and Responses, Anthropic Messages and Gemini generateContent, plain JSON or
SSE streams with usage. The answer echoes the last user message; headers x-mock-answer, x-mock-status and
x-mock-chunk-delay-ms steer it. SIGINT/SIGTERM stop it.

flags:
`

func runMock(args []string) int {
	fs := flag.NewFlagSet("mock", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), mockUsage); fs.PrintDefaults() }
	listen := fs.String("listen", "127.0.0.1:9000", "listen address")
	delay := fs.Duration("chunk-delay", 20*time.Millisecond, "pause between SSE events")
	answer := fs.String("answer", "", "fixed answer text (default: echo the last user message)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *delay == 0 {
		*delay = -1 // MockOptions: zero means the default
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostsim mock:", err)
		return 1
	}
	srv := &http.Server{Handler: gateway.NewMockLLM(gateway.MockOptions{ChunkDelay: *delay, Answer: *answer}), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "hostsim mock:", err)
			return 1
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}
