package telemetry

// MetricName returns "wasmguard_<filter>_<what>" with every byte outside [a-z0-9_] replaced by '_'
// (upper-case letters are lower-cased). Envoy's Prometheus output keeps such names as they are.
//
//	telemetry.MetricName("promptguard", "requests_total") // "wasmguard_promptguard_requests_total"
func MetricName(filter, what string) string {
	b := make([]byte, 0, len("wasmguard__")+len(filter)+len(what))
	b = append(b, "wasmguard_"...)
	b = appendMetricPart(b, filter)
	b = append(b, '_')
	b = appendMetricPart(b, what)
	return string(b)
}

// Tagged appends tag pairs to a metric name as ".<key>.<value>" (both sanitised like MetricName, values
// cut to 64 bytes, an empty value written as "none"). kv alternates keys and values; a trailing key
// without value is ignored.
//
//	telemetry.Tagged(telemetry.MetricName("promptguard", "decisions_total"), "action", "block", "reason", "prompt_injection_detected")
//	// "wasmguard_promptguard_decisions_total.action.block.reason.prompt_injection_detected"
func Tagged(name string, kv ...string) string {
	n := len(name)
	for _, s := range kv {
		n += len(s) + 1
	}
	b := make([]byte, 0, n+8)
	b = append(b, name...)
	for i := 0; i+1 < len(kv); i += 2 {
		b = append(b, '.')
		b = appendMetricPart(b, kv[i])
		b = append(b, '.')
		v := kv[i+1]
		if v == "" {
			v = "none"
		}
		if len(v) > maxCode {
			v = v[:maxCode]
		}
		b = appendMetricPart(b, v)
	}
	return string(b)
}

func appendMetricPart(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+('a'-'A'))
		default:
			b = append(b, '_')
		}
	}
	return b
}
