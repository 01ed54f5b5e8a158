package budget

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// The cluster-wide engine is Redis behind webdis (an HTTP front for Redis, Debian package "webdis"). A
// command is sent as `POST /` with the command path in the body ("EVAL/<script>/<numkeys>/<key>/.../<arg>",
// each component percent-encoded) and answered as JSON: {"EVAL":[...]}.

// ReserveScript checks every counter and charges all of them only if all fit, atomically in Redis.
// KEYS are the counters; ARGV holds, per key, amount, limit and TTL (seconds). It returns {0, used...}
// when charged, or {i, used_i} when counter i (1-based) refused.
const ReserveScript = `local n = #KEYS
for i = 1, n do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local amt = tonumber(ARGV[3*i-2])
  if amt > 0 and used + amt > tonumber(ARGV[3*i-1]) then
    return {i, used}
  end
end
local out = {0}
for i = 1, n do
  out[i+1] = redis.call('INCRBY', KEYS[i], ARGV[3*i-2])
  redis.call('EXPIRE', KEYS[i], ARGV[3*i])
end
return out`

// AdjustScript adds ARGV[i] to KEYS[i] when that key still exists (a key that expired belonged to an
// ended window: its delta is dropped), never leaving a counter below zero.
const AdjustScript = `for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('INCRBY', KEYS[i], ARGV[i]) < 0 then
      redis.call('SET', KEYS[i], 0, 'KEEPTTL')
    end
  end
end
return #KEYS`

// ClusterCounter is a counter in Redis: its key includes the window id, and it expires TTL seconds after
// it is last charged.
type ClusterCounter struct {
	Key    string
	Limit  int64
	Amount int64
	TTL    int64
}

// ReserveCommand builds the webdis request body that reserves on every counter.
func ReserveCommand(cs []ClusterCounter) []byte {
	var b strings.Builder
	b.WriteString("EVAL/")
	b.WriteString(escape(ReserveScript))
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(len(cs)))
	for _, c := range cs {
		b.WriteByte('/')
		b.WriteString(escape(c.Key))
	}
	for _, c := range cs {
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(c.Amount, 10))
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(c.Limit, 10))
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(max(c.TTL, 1), 10))
	}
	return []byte(b.String())
}

// AdjustCommand builds the webdis request body that applies deltas to keys.
func AdjustCommand(keys []string, deltas []int64) []byte {
	var b strings.Builder
	b.WriteString("EVAL/")
	b.WriteString(escape(AdjustScript))
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(len(keys)))
	for _, k := range keys {
		b.WriteByte('/')
		b.WriteString(escape(k))
	}
	for _, d := range deltas {
		b.WriteByte('/')
		b.WriteString(strconv.FormatInt(d, 10))
	}
	return []byte(b.String())
}

// ErrEngineReply is returned for a webdis answer that is not the expected JSON.
var ErrEngineReply = errors.New("unexpected engine reply")

// ParseReserveReply reads webdis's answer to ReserveCommand for n counters. On success it returns
// allowed=true and the used amount of every counter; on refusal, the 0-based index of the refusing counter
// and its used amount in used[denied].
func ParseReserveReply(body []byte, n int) (allowed bool, denied int, used []int64, err error) {
	arr := gjson.GetBytes(body, "EVAL")
	if !arr.IsArray() {
		return false, -1, nil, fmt.Errorf("%w: %.120s", ErrEngineReply, body)
	}
	items := arr.Array()
	if len(items) < 2 || items[0].Type != gjson.Number {
		return false, -1, nil, fmt.Errorf("%w: %.120s", ErrEngineReply, body)
	}
	used = make([]int64, n)
	idx := items[0].Int()
	if idx == 0 {
		if len(items) != n+1 {
			return false, -1, nil, fmt.Errorf("%w: %d values for %d counters", ErrEngineReply, len(items)-1, n)
		}
		for i := range n {
			used[i] = items[i+1].Int()
		}
		return true, -1, used, nil
	}
	if idx < 1 || idx > int64(n) {
		return false, -1, nil, fmt.Errorf("%w: counter index %d of %d", ErrEngineReply, idx, n)
	}
	used[idx-1] = items[1].Int()
	return false, int(idx - 1), used, nil
}

// ParseAdjustReply checks webdis's answer to AdjustCommand.
func ParseAdjustReply(body []byte) error {
	if r := gjson.GetBytes(body, "EVAL"); r.Type != gjson.Number {
		return fmt.Errorf("%w: %.120s", ErrEngineReply, body)
	}
	return nil
}

// escape percent-encodes everything webdis would treat specially in a path component.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			out = append(out, '%', hex[c>>4], hex[c&15])
		} else {
			out = append(out, c)
		}
	}
	return string(out)
}

func needsEscape(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return false
	case c == '-', c == '_', c == '.', c == '~', c == ':', c == '|', c == '=', c == ',':
		return false
	}
	return true
}

// Pending aggregates reconciliation deltas for the cluster engine inside one VM, so that many refunds
// become one AdjustCommand per flush (local pre-aggregation). It is not safe for concurrent use; a
// proxy-wasm VM is single-threaded.
type Pending struct {
	m map[string]int64
}

// Add records delta for key (deltas for the same key sum up).
func (p *Pending) Add(key string, delta int64) {
	if delta == 0 {
		return
	}
	if p.m == nil {
		p.m = map[string]int64{}
	}
	p.m[key] += delta
	if p.m[key] == 0 {
		delete(p.m, key)
	}
}

// Len is the number of keys with a pending delta.
func (p *Pending) Len() int { return len(p.m) }

// Drain removes and returns up to maxKeys pending deltas (sorted by key, for deterministic commands).
func (p *Pending) Drain(maxKeys int) (keys []string, deltas []int64) {
	if len(p.m) == 0 {
		return nil, nil
	}
	keys = make([]string, 0, len(p.m))
	for k := range p.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > maxKeys {
		keys = keys[:maxKeys]
	}
	deltas = make([]int64, len(keys))
	for i, k := range keys {
		deltas[i] = p.m[k]
		delete(p.m, k)
	}
	return keys, deltas
}

// Restore puts deltas back after a failed flush, so they are retried on the next one.
func (p *Pending) Restore(keys []string, deltas []int64) {
	for i, k := range keys {
		p.Add(k, deltas[i])
	}
}
