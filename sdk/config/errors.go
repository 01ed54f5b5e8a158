package config

import (
	"slices"
	"strings"
)

// Issue is one configuration problem: the JSON path ("rules[2].action", "" for the document itself)
// and what is wrong ("must be one of block, redact, annotate; got \"hash\"").
type Issue struct {
	Path string
	Msg  string
}

// String renders "<path>: <msg>" ("config: <msg>" for the document itself).
func (i Issue) String() string {
	p := i.Path
	if p == "" {
		p = "config"
	}
	return p + ": " + i.Msg
}

// Errors is what Obj.Err returns: every problem in a configuration, sorted by path (array indexes
// compare numerically, so rules[2] comes before rules[10]) and without duplicates.
type Errors struct {
	Issues []Issue
}

// Error joins the issues with "\n". Log them one per line when the host's log is line-based:
//
//	var cerr *config.Errors
//	if errors.As(err, &cerr) {
//		for _, is := range cerr.Issues {
//			proxywasm.LogCriticalf("promptguard: config: %s", is)
//		}
//	}
func (e *Errors) Error() string {
	var b strings.Builder
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(is.String())
	}
	return b.String()
}

func newErrors(issues []Issue) error {
	if len(issues) == 0 {
		return nil
	}
	slices.SortStableFunc(issues, func(a, b Issue) int { return comparePaths(a.Path, b.Path) })
	out := issues[:0]
	for i, is := range issues {
		if i > 0 && is == issues[i-1] {
			continue
		}
		out = append(out, is)
	}
	return &Errors{Issues: out}
}

// comparePaths orders paths byte-wise, except that runs of digits compare by numeric value.
func comparePaths(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				if len(na) < len(nb) {
					return -1
				}
				return 1
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		if a[i] != b[j] {
			if a[i] < b[j] {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	switch {
	case len(a)-i < len(b)-j:
		return -1
	case len(a)-i > len(b)-j:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
