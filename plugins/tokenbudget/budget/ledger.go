package budget

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Store is the part of proxy-wasm shared data the ledger needs. Get returns ErrNotFound for a missing
// key; Set with cas 0 is unconditional, otherwise it fails with ErrCASMismatch when the key changed since
// the Get that returned cas. (Hosts ignore cas when the key does not exist yet; the ledger copes.)
type Store interface {
	Get(key string) (value []byte, cas uint32, err error)
	Set(key string, value []byte, cas uint32) error
}

// Errors a Store returns.
var (
	ErrNotFound    = errors.New("budget: key not found")
	ErrCASMismatch = errors.New("budget: cas mismatch")
	// ErrContention is returned when a CAS loop did not win after MaxCASRetries attempts.
	ErrContention = errors.New("budget: shared data contention")
)

// MaxCASRetries bounds every CAS retry loop.
const MaxCASRetries = 64

// Counter is one budget counter for one window: a key, the window the request falls in, and the limit.
type Counter struct {
	Key    string
	Window int64 // window id (Period.Window); 0 for counters without a window (concurrency)
	Limit  int64
}

// valueLen is the size of a stored counter: window id and used amount, both int64 little-endian.
const valueLen = 16

func decode(v []byte) (window, used int64, ok bool) {
	if len(v) != valueLen {
		return 0, 0, false
	}
	return int64(binary.LittleEndian.Uint64(v[:8])), int64(binary.LittleEndian.Uint64(v[8:])), true
}

func encode(window, used int64) []byte {
	v := make([]byte, valueLen)
	binary.LittleEndian.PutUint64(v[:8], uint64(window))
	binary.LittleEndian.PutUint64(v[8:], uint64(used))
	return v
}

// Used returns the amount used in c's window (0 when the stored value belongs to an older window or the
// key does not exist).
func Used(s Store, c Counter) (int64, error) {
	v, _, err := s.Get(c.Key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", c.Key, err)
	}
	w, used, ok := decode(v)
	if !ok || w < c.Window {
		return 0, nil
	}
	return used, nil
}

// Result is the outcome of Reserve.
type Result struct {
	Allowed bool
	// Denied is the index of the counter that refused the reservation (-1 when allowed).
	Denied int
	// Used is, per counter, the amount used after the reservation (when allowed) or, for the denying
	// counter, the amount used that made it refuse.
	Used []int64
}

// Reserve adds amounts[i] to every counters[i] if, and only if, every counter stays within its limit.
// Each counter is updated with its own CAS loop; when a later counter refuses, the earlier ones are
// rolled back, so a refused request leaves no charge behind. Concurrent reservations from other VMs can
// only make this one refuse, never push a counter past its limit.
func Reserve(s Store, counters []Counter, amounts []int64) (Result, error) {
	res := Result{Denied: -1, Used: make([]int64, len(counters))}
	for i, c := range counters {
		used, ok, err := reserveOne(s, c, amounts[i])
		res.Used[i] = used
		if err != nil || !ok {
			for j := i - 1; j >= 0; j-- {
				// Best effort: a failed rollback over-counts, it never under-counts.
				_ = Adjust(s, counters[j], -amounts[j])
			}
			if err != nil {
				return res, err
			}
			res.Denied = i
			return res, nil
		}
	}
	res.Allowed = true
	return res, nil
}

// createCAS is the cas used to create a key on Envoy. Envoy ignores cas for a missing key (the create
// succeeds) but checks it for an existing one, and a real cas never reaches 2^32-1 in practice, so a set with
// createCAS is an atomic "create if absent": when two VMs race to create a counter, one of them gets
// ErrCASMismatch and retries on the value the other wrote, instead of overwriting it (which a cas of 0 would
// do). Kong (ngx_wasm_module's shm kv) wants the key's own cas, 0 for a missing key, and refuses createCAS:
// there a cas of 0 is the atomic create. createCASFor picks it.
const createCAS = ^uint32(0)

// createCASFor is the cas to create a missing key with: createCAS, or 0 once a create with createCAS was
// refused while the key was still missing (Kong).
func createCASFor(refused bool) uint32 {
	if refused {
		return 0
	}
	return createCAS
}

func reserveOne(s Store, c Counter, amount int64) (int64, bool, error) {
	refused := false // a create with createCAS was refused on a missing key (Kong)
	for range MaxCASRetries {
		v, cas, err := s.Get(c.Key)
		var used int64
		window := c.Window
		missing := errors.Is(err, ErrNotFound)
		switch {
		case missing:
			cas = createCASFor(refused)
		case err != nil:
			return 0, false, fmt.Errorf("read %s: %w", c.Key, err)
		default:
			if cas == 0 {
				cas = createCAS
			}
			if w, u, ok := decode(v); ok && w >= c.Window {
				used, window = u, w
			}
		}
		if amount > 0 && used+amount > c.Limit {
			return used, false, nil
		}
		err = s.Set(c.Key, encode(window, used+amount), cas)
		if errors.Is(err, ErrCASMismatch) {
			refused = refused || (missing && cas == createCAS)
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("write %s: %w", c.Key, err)
		}
		return used + amount, true, nil
	}
	return 0, false, ErrContention
}

// Adjust adds delta (negative for a refund) to c's counter, but only while the stored value still
// belongs to c's window: a delta for a window that has ended is dropped. The counter never goes below 0.
// A positive delta on a missing counter creates it.
func Adjust(s Store, c Counter, delta int64) error {
	if delta == 0 {
		return nil
	}
	refused := false // a create with createCAS was refused on a missing key (Kong)
	for range MaxCASRetries {
		v, cas, err := s.Get(c.Key)
		if errors.Is(err, ErrNotFound) {
			if delta < 0 {
				return nil
			}
			// A charge on a counter nobody reserved on yet (monitor mode): create it.
			cc := createCASFor(refused)
			err = s.Set(c.Key, encode(c.Window, delta), cc)
			if errors.Is(err, ErrCASMismatch) {
				refused = refused || cc == createCAS
				continue
			}
			return err
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", c.Key, err)
		}
		w, used, ok := decode(v)
		if !ok || w != c.Window {
			return nil
		}
		if cas == 0 {
			cas = createCAS
		}
		err = s.Set(c.Key, encode(w, max(used+delta, 0)), cas)
		if errors.Is(err, ErrCASMismatch) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", c.Key, err)
		}
		return nil
	}
	return ErrContention
}
