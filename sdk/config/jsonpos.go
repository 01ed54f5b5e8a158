package config

// scanner is a minimal JSON syntax checker that remembers where the first error is. It exists only to
// point at the broken spot of an invalid configuration ("invalid JSON at line 3, column 7").
type scanner struct {
	data string
	pos  int
	err  int // offset of the first error, -1 while none
}

const maxDepth = 512

func (s *scanner) fail() {
	if s.err < 0 {
		s.err = s.pos
	}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) {
	if s.err >= 0 {
		return
	}
	s.skipSpace()
	if s.pos >= len(s.data) || depth > maxDepth {
		s.fail()
		return
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			return
		}
		for s.err < 0 {
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				s.fail()
				return
			}
			s.str()
			s.skipSpace()
			if s.err >= 0 || s.pos >= len(s.data) || s.data[s.pos] != ':' {
				s.fail()
				return
			}
			s.pos++
			s.value(depth + 1)
			s.skipSpace()
			if s.err >= 0 || s.pos >= len(s.data) {
				s.fail()
				return
			}
			if s.data[s.pos] == '}' {
				s.pos++
				return
			}
			if s.data[s.pos] != ',' {
				s.fail()
				return
			}
			s.pos++
		}
	case c == '[':
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			return
		}
		for s.err < 0 {
			s.value(depth + 1)
			s.skipSpace()
			if s.err >= 0 || s.pos >= len(s.data) {
				s.fail()
				return
			}
			if s.data[s.pos] == ']' {
				s.pos++
				return
			}
			if s.data[s.pos] != ',' {
				s.fail()
				return
			}
			s.pos++
		}
	case c == '"':
		s.str()
	case c == 't':
		s.lit("true")
	case c == 'f':
		s.lit("false")
	case c == 'n':
		s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		s.num()
	default:
		s.fail()
	}
}

func (s *scanner) lit(w string) {
	if len(s.data)-s.pos < len(w) || s.data[s.pos:s.pos+len(w)] != w {
		s.fail()
		return
	}
	s.pos += len(w)
}

func (s *scanner) str() {
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return
		case c < 0x20:
			s.fail()
			return
		case c == '\\':
			s.pos++
			if s.pos >= len(s.data) {
				s.fail()
				return
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for i := 0; i < 4; i++ {
					if s.pos >= len(s.data) || !isHex(s.data[s.pos]) {
						s.fail()
						return
					}
					s.pos++
				}
			default:
				s.fail()
				return
			}
		default:
			s.pos++
		}
	}
	s.fail()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) num() {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() bool {
		start := s.pos
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
		}
		return s.pos > start
	}
	if s.pos < len(s.data) && s.data[s.pos] == '0' {
		s.pos++
	} else if !digits() {
		s.fail()
		return
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if !digits() {
			s.fail()
			return
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if !digits() {
			s.fail()
		}
	}
}
