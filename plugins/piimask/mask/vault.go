package mask

import (
	"github.com/wasmguard/wasmguard/sdk/placeholder"
	"github.com/wasmguard/wasmguard/sdk/render"
)

// Vault maps placeholders to the values they replaced, for one HTTP stream (request → response). It is not
// shared between streams, so it needs no locking; it is bounded by MaxEntries.
type Vault struct {
	m map[string]string
	// MaxEntries bounds the map (default 4096); further placeholders are still produced but not restorable.
	MaxEntries int
	// RestoreInLinks lets Restore put values back inside link constructs too (piimask's "restore_in_links").
	// By default a placeholder in a URL, a link or image destination, an HTML tag (src, href, srcset, style,
	// ...), an autolink, a reference definition or a CSS url() stays a placeholder: restoring it there would make
	// the client's renderer send the user's data to whatever server the model named (render.InLink).
	RestoreInLinks bool
	kept           map[string]struct{}
}

// maxKept bounds the set of placeholders kept in links.
const maxKept = 256

func (v *Vault) keep(ph []byte) {
	if _, ok := v.kept[string(ph)]; ok {
		return
	}
	if v.kept == nil {
		v.kept = make(map[string]struct{})
	}
	if len(v.kept) < maxKept {
		v.kept[string(ph)] = struct{}{}
	}
}

// KeptInLinks is the number of distinct placeholders Restore left in place because they were in a link
// construct (the same placeholder restored twice, e.g. in deltas and in the final snapshot, counts once).
func (v *Vault) KeptInLinks() int {
	if v == nil {
		return 0
	}
	return len(v.kept)
}

// Put records placeholder → value.
func (v *Vault) Put(placeholder, value string) {
	if v.m == nil {
		v.m = make(map[string]string)
	}
	max := v.MaxEntries
	if max <= 0 {
		max = 4096
	}
	if len(v.m) >= max {
		return
	}
	v.m[placeholder] = value
}

// Get returns the value of a placeholder.
func (v *Vault) Get(placeholder string) (string, bool) {
	if v == nil || v.m == nil {
		return "", false
	}
	s, ok := v.m[placeholder]
	return s, ok
}

// Len is the number of placeholders recorded.
func (v *Vault) Len() int {
	if v == nil {
		return 0
	}
	return len(v.m)
}

// MaxPlaceholderLen is the longest placeholder Restore recognises: "[" + name (up to 48) + "_" + 8 hex + "]".
const MaxPlaceholderLen = placeholder.MaxLen

// Restore replaces every placeholder of v found in text by its value, except where the client would send the
// value to a server (see KeptInLinks). It returns text itself when nothing changed, and the number of
// placeholders restored.
func Restore(text []byte, v *Vault) ([]byte, int) {
	out, n := restoreRange(text, 0, len(text), v)
	if out == nil {
		return text, 0
	}
	return out, n
}

// restoreRange returns the restoration of text[from:to]; text before from is the context (already
// emitted) that tells whether a placeholder lies in a link. It returns nil when nothing in the range changed.
func restoreRange(text []byte, from, to int, v *Vault) ([]byte, int) {
	if v.Len() == 0 {
		return nil, 0
	}
	var out []byte
	last, count := from, 0
	for i := from; i < to; i++ {
		if text[i] != '[' {
			continue
		}
		n, _ := placeholder.At(text[:to], i)
		if n == 0 {
			continue
		}
		ph := text[i : i+n]
		val, ok := v.Get(string(ph))
		if !ok {
			continue
		}
		if !v.RestoreInLinks && render.InLink(text, i) {
			v.keep(ph)
			i += n - 1
			continue
		}
		if out == nil {
			out = make([]byte, 0, to-from+64)
		}
		out = append(append(out, text[last:i]...), val...)
		last = i + n
		i += n - 1
		count++
	}
	if out == nil {
		return nil, 0
	}
	return append(out, text[last:to]...), count
}
