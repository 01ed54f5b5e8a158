package hostsim

import "encoding/binary"

// Limits Envoy's pairs parser applies to maps coming from the guest (cpp-host
// PROXY_WASM_HOST_PAIRS_MAX_BYTES / _MAX_COUNT). Above them the host silently
// treats the map as empty.
const (
	maxPairsBytes = 1 << 20
	maxPairsCount = 1024
)

// EncodePairs serializes a header map in the proxy-wasm "pairs" format: u32 count,
// count × (u32 key length, u32 value length), then count × key\0value\0, all
// little-endian. It is what a host hands to the guest for get_header_map_pairs.
func EncodePairs(pairs [][2]string) []byte {
	size := 4
	for _, p := range pairs {
		size += 8 + len(p[0]) + len(p[1]) + 2
	}
	out := make([]byte, size)
	binary.LittleEndian.PutUint32(out, uint32(len(pairs)))
	off := 4
	for _, p := range pairs {
		binary.LittleEndian.PutUint32(out[off:], uint32(len(p[0])))
		binary.LittleEndian.PutUint32(out[off+4:], uint32(len(p[1])))
		off += 8
	}
	for _, p := range pairs {
		off += copy(out[off:], p[0])
		out[off] = 0
		off++
		off += copy(out[off:], p[1])
		out[off] = 0
		off++
	}
	return out
}

// DecodePairs parses the proxy-wasm pairs format. Like Envoy's PairsUtil::toPairs it
// rejects (ok == false) input over 1 MiB, more than 1024 pairs, lengths that overrun
// the buffer, a missing NUL terminator, or trailing bytes; the host then treats the
// map as empty. An empty input is a valid empty map.
func DecodePairs(b []byte) (pairs [][2]string, ok bool) {
	if len(b) == 0 {
		return nil, true
	}
	if len(b) > maxPairsBytes || len(b) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	if n > maxPairsCount {
		return nil, false
	}
	if uint64(len(b)) < 4+8*uint64(n) {
		return nil, false
	}
	sizes := b[4 : 4+8*n]
	data := b[4+8*n:]
	pairs = make([][2]string, 0, n)
	for i := uint32(0); i < n; i++ {
		kl := uint64(binary.LittleEndian.Uint32(sizes[8*i:]))
		vl := uint64(binary.LittleEndian.Uint32(sizes[8*i+4:]))
		if kl+vl+2 > uint64(len(data)) {
			return nil, false
		}
		if data[kl] != 0 || data[kl+1+vl] != 0 {
			return nil, false
		}
		pairs = append(pairs, [2]string{string(data[:kl]), string(data[kl+1 : kl+1+vl])})
		data = data[kl+vl+2:]
	}
	if len(data) != 0 {
		return nil, false
	}
	return pairs, true
}
