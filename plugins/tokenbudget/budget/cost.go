package budget

import (
	"math"
	"strings"
)

// Metric is what a budget counts.
type Metric uint8

// The metrics a budget can limit. MetricCost counts micro-dollars (1e-6 USD) computed from a PriceTable.
const (
	MetricTotal Metric = iota + 1
	MetricInput
	MetricOutput
	MetricCost
)

// ParseMetric maps "total_tokens", "input_tokens", "output_tokens", "cost_usd" to a Metric.
func ParseMetric(s string) (Metric, bool) {
	switch s {
	case "total_tokens":
		return MetricTotal, true
	case "input_tokens":
		return MetricInput, true
	case "output_tokens":
		return MetricOutput, true
	case "cost_usd":
		return MetricCost, true
	}
	return 0, false
}

// String returns the config name of m.
func (m Metric) String() string {
	switch m {
	case MetricTotal:
		return "total_tokens"
	case MetricInput:
		return "input_tokens"
	case MetricOutput:
		return "output_tokens"
	case MetricCost:
		return "cost_usd"
	}
	return "metric"
}

// Tokens is a token count split the way providers bill it. Input includes Cached (prompt tokens read
// from the provider's cache); Output includes Reasoning (hidden thinking tokens).
type Tokens struct {
	Input, Cached, Output, Reasoning int64
}

// Price is a model's price in USD per million tokens. CachedInput and Reasoning default to Input and
// Output when zero.
type Price struct {
	Input, CachedInput, Output, Reasoning float64
}

// CostMicros returns the cost of t in micro-dollars, rounded up. Because prices are per million tokens,
// tokens × price is already in micro-dollars.
func (p Price) CostMicros(t Tokens) int64 {
	cached := clamp(t.Cached, 0, t.Input)
	reasoning := clamp(t.Reasoning, 0, t.Output)
	ci, rp := p.CachedInput, p.Reasoning
	if ci == 0 {
		ci = p.Input
	}
	if rp == 0 {
		rp = p.Output
	}
	c := float64(t.Input-cached)*p.Input + float64(cached)*ci + float64(t.Output-reasoning)*p.Output + float64(reasoning)*rp
	if c <= 0 {
		return 0
	}
	if c >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(math.Ceil(c - 1e-9))
}

// OutputForMicros returns how many output tokens fit in micros at this price (0 when the output price is
// zero and micros is negative, a large number when output is free).
func (p Price) OutputForMicros(micros int64) int64 {
	if micros <= 0 {
		return 0
	}
	if p.Output <= 0 {
		return math.MaxInt32
	}
	return int64(float64(micros) / p.Output)
}

func clamp(v, lo, hi int64) int64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// PriceEntry is one row of a price table: Model is an exact model name or a prefix ending in "*"
// ("gpt-4o*"); "*" alone matches every model.
type PriceEntry struct {
	Model string
	Price Price
}

// PriceTable finds the price of a model: an exact match first, then the longest matching prefix.
type PriceTable []PriceEntry

// Lookup returns the price for model and whether any row matched.
func (pt PriceTable) Lookup(model string) (Price, bool) {
	best, bestLen := -1, -1
	for i, e := range pt {
		if e.Model == model {
			return e.Price, true
		}
		if strings.HasSuffix(e.Model, "*") {
			pre := e.Model[:len(e.Model)-1]
			if strings.HasPrefix(model, pre) && len(pre) > bestLen {
				best, bestLen = i, len(pre)
			}
		}
	}
	if best < 0 {
		return Price{}, false
	}
	return pt[best].Price, true
}

// Amount converts t into the unit that m counts, using price for MetricCost.
func Amount(m Metric, t Tokens, price Price) int64 {
	switch m {
	case MetricInput:
		return t.Input
	case MetricOutput:
		return t.Output
	case MetricCost:
		return price.CostMicros(t)
	}
	return t.Input + t.Output
}

// OutputRoom returns how many output tokens still fit in remaining units of metric m once input tokens
// (estimated) are charged; -1 means output is not limited by this metric.
func OutputRoom(m Metric, remaining, input int64, price Price) int64 {
	switch m {
	case MetricInput:
		return -1
	case MetricOutput:
		return max(remaining, 0)
	case MetricCost:
		in := price.CostMicros(Tokens{Input: input})
		return price.OutputForMicros(remaining - in)
	}
	return max(remaining-input, 0)
}
