package budget

import "sync"

// MemStore is an in-memory Store with the semantics of Envoy's shared data (proxy-wasm cpp-host
// shared_data.cc): one global cas counter that starts at 1 and grows on every successful set, cas 0 is an
// unconditional set, and a set on a missing key succeeds whatever cas is passed. It is safe for concurrent
// use. Tests use it; it is not compiled into a filter unless referenced.
type MemStore struct {
	mu   sync.Mutex
	next uint32
	m    map[string]memEntry
}

type memEntry struct {
	v   []byte
	cas uint32
}

// Get implements Store.
func (s *MemStore) Get(key string) ([]byte, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return nil, 0, ErrNotFound
	}
	return append([]byte(nil), e.v...), e.cas, nil
}

// Set implements Store.
func (s *MemStore) Set(key string, v []byte, cas uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]memEntry{}
	}
	if e, ok := s.m[key]; ok && cas != 0 && cas != e.cas {
		return ErrCASMismatch
	}
	s.next++
	s.m[key] = memEntry{v: append([]byte(nil), v...), cas: s.next}
	return nil
}
