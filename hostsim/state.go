package hostsim

import (
	"sort"
	"strings"
	"sync"
)

// sharedStore is Envoy's process-wide shared data: namespaced by vm_id, one global CAS
// counter (starting at 1, bumped on every successful set), a set on a missing key
// succeeds whatever CAS it carries.
type sharedStore struct {
	mu   sync.Mutex
	cas  uint32
	data map[string]map[string]sharedEntry
}

type sharedEntry struct {
	val []byte
	cas uint32
}

func (s *sharedStore) init() { s.data = map[string]map[string]sharedEntry{} }

func (s *sharedStore) get(vmID, key string) ([]byte, uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.data[vmID][key]
	if !ok {
		return nil, 0, false
	}
	return append([]byte(nil), e.val...), e.cas, true
}

// set returns statusOK or statusCasMismatch.
func (s *sharedStore) set(vmID, key string, val []byte, cas uint32, checkCas bool) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.data[vmID]
	if ns == nil {
		ns = map[string]sharedEntry{}
		s.data[vmID] = ns
	}
	if e, ok := ns[key]; ok && checkCas && cas != 0 && cas != e.cas {
		return statusCasMismatch
	}
	s.cas++
	if s.cas == 0 {
		s.cas = 1
	}
	ns[key] = sharedEntry{val: append([]byte(nil), val...), cas: s.cas}
	return statusOK
}

// setKong is ngx_wasm_module's shm kv set (ngx_wa_shm_kv_set_locked): the cas must equal the key's own
// cas, 0 for a missing key, or the set is a CAS_MISMATCH (so a cas-0 set on an existing key fails, and any
// non-zero cas on a missing key fails); a NULL value pointer deletes the key (CAS_MISMATCH when there was
// none); each key counts its own cas from 1, bumped on every write.
func (s *sharedStore) setKong(vmID, key string, val []byte, null bool, cas uint32) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.data[vmID]
	if ns == nil {
		ns = map[string]sharedEntry{}
		s.data[vmID] = ns
	}
	e, ok := ns[key]
	if cas != e.cas { // e.cas is 0 for a missing key
		return statusCasMismatch
	}
	if null {
		if !ok {
			return statusCasMismatch // nothing written
		}
		delete(ns, key)
		return statusOK
	}
	ns[key] = sharedEntry{val: append([]byte(nil), val...), cas: e.cas + 1}
	return statusOK
}

func (s *sharedStore) keys(vmID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.data[vmID] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// queueStore holds shared queues keyed by (vm_id, name); only the last registrant is
// notified.
type queueStore struct {
	mu     sync.Mutex
	nextID uint32
	byName map[[2]string]*queue
	byID   map[uint32]*queue
}

type queue struct {
	id        uint32
	items     [][]byte
	owner     *vm
	ownerRoot *root
}

type queueTask struct {
	v    *vm
	root *root
	id   uint32
}

func (q *queueStore) init() {
	q.byName = map[[2]string]*queue{}
	q.byID = map[uint32]*queue{}
}

// metricStore is the process-wide stats store.
type metricStore struct {
	mu     sync.Mutex
	byName map[string]*metric
	byID   []*metric
}

type metric struct {
	name    string
	typ     uint32 // 0 counter, 1 gauge, 2 histogram
	value   int64
	samples []uint64
}

func (m *metricStore) init() { m.byName = map[string]*metric{} }

func (m *metricStore) define(typ uint32, name string) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt := m.byName[name]
	if mt == nil {
		mt = &metric{name: name, typ: typ}
		m.byName[name] = mt
	}
	m.byID = append(m.byID, mt)
	// ids encode the type in the low bits, as Envoy's do; never 0.
	return uint32(len(m.byID))<<2 | typ
}

func (m *metricStore) lookup(id uint32) *metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := int(id >> 2)
	if i < 1 || i > len(m.byID) {
		return nil
	}
	return m.byID[i-1]
}

func (m *metricStore) find(name string) *metric {
	if mt := m.byName[name]; mt != nil {
		return mt
	}
	for k, mt := range m.byName {
		if strings.HasPrefix(k, "pw:") && strings.HasSuffix(k, ":"+name) {
			return mt
		}
	}
	return nil
}

func (m *metricStore) value(name string) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt := m.find(name)
	if mt == nil {
		return 0, false
	}
	if mt.typ == 2 {
		return int64(len(mt.samples)), true
	}
	return mt.value, true
}

func (m *metricStore) samples(name string) ([]uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt := m.find(name)
	if mt == nil || mt.typ != 2 {
		return nil, false
	}
	return append([]uint64(nil), mt.samples...), true
}

func (m *metricStore) all() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for k, mt := range m.byName {
		if mt.typ == 2 {
			out[k] = int64(len(mt.samples))
		} else {
			out[k] = mt.value
		}
	}
	return out
}
