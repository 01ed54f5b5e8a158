package llm

import "fmt"

// checkDuplicates returns an ErrDuplicateKey error for the first object in v (at any depth) that has two keys
// equal after decoding escapes, or equal under Go's case folding (encoding/json takes "Text" for "text").
func checkDuplicates(b []byte, v val) error {
	switch v.k {
	case kObject:
		var buf [16]val
		keys := buf[:0]
		it := v.iter(b)
		for {
			k, x, ok := it.next()
			if !ok {
				break
			}
			keys = append(keys, k)
			if err := checkDuplicates(b, x); err != nil {
				return err
			}
		}
		if len(keys) <= 16 {
			for i := 1; i < len(keys); i++ {
				for j := 0; j < i; j++ {
					if keysFoldEqual(b, keys[i], keys[j]) {
						return dupErr(b, keys[i])
					}
				}
			}
			return nil
		}
		seen := make(map[string]struct{}, len(keys))
		for _, k := range keys {
			f := string(foldKey(nil, keyBytes(b, k)))
			if _, ok := seen[f]; ok {
				return dupErr(b, k)
			}
			seen[f] = struct{}{}
		}
	case kArray:
		it := v.iter(b)
		for {
			_, x, ok := it.next()
			if !ok {
				break
			}
			if err := checkDuplicates(b, x); err != nil {
				return err
			}
		}
	}
	return nil
}

func dupErr(b []byte, k val) error {
	return fmt.Errorf("%w: %q at offset %d", ErrDuplicateKey, keyName(b, k), k.s)
}

func keysFoldEqual(b []byte, k1, k2 val) bool {
	r1, r2 := b[k1.s+1:k1.e-1], b[k2.s+1:k2.e-1]
	if simpleKey(r1) && simpleKey(r2) {
		if len(r1) != len(r2) {
			return false
		}
		for i := range r1 {
			c, d := r1[i], r2[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'A' <= d && d <= 'Z' {
				d += 'a' - 'A'
			}
			if c != d {
				return false
			}
		}
		return true
	}
	var s1, s2 [96]byte
	return string(foldKey(s1[:0], keyBytes(b, k1))) == string(foldKey(s2[:0], keyBytes(b, k2)))
}
