// Command hostsim is wasmguard's proxy-wasm host on the command line: it checks built
// filters against the real gateways' host interfaces and (with the serve/replay
// subcommands) runs them. Run `hostsim help` for the list of subcommands.
//
// Adding a subcommand: create <name>.go in this directory with
//
//	func init() { register(command{name: "serve", summary: "...", run: runServe}) }
//
// where run gets the arguments after the subcommand name and returns the exit code.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

type command struct {
	name    string
	summary string                  // one line for `hostsim help`
	run     func(args []string) int // exit code
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand file calls it from init.
func register(c command) { commands[c.name] = c }

const usageHead = `hostsim runs wasmguard's proxy-wasm filters (.wasm) in a simulated gateway host
(Envoy's proxy-wasm-cpp-host or Kong's ngx_wasm_module), the same host the tests use.

usage: hostsim <command> [flags] [args]

commands:
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun `hostsim <command> -h` for the flags of a command.\n")
}

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"-h"})
			}
		}
		usage(os.Stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "hostsim: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:])
}
