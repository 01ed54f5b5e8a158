package eval

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Series is one colour of a grouped bar chart: a value per category (NaN: undefined, drawn as "n/a").
type Series struct {
	Name   string
	Color  string
	Values []float64
}

// BarChart draws a grouped bar chart as a self-contained SVG: one group of bars per category, one bar per series,
// values on a 0..max axis (max 1 for ratios, shown in percent when percent is set). Hand-written: no plotting
// dependency.
func BarChart(title string, categories []string, series []Series, max float64, percent bool, unit string) []byte {
	return barChart(title, categories, series, 0, max, percent, unit)
}

// BarChartLog is BarChart on a logarithmic axis from the decade below the smallest value to the decade above
// the largest, for figures that span orders of magnitude (latency over body sizes).
func BarChartLog(title string, categories []string, series []Series, unit string) []byte {
	lo, hi := math.Inf(1), 0.0
	for _, s := range series {
		for _, v := range s.Values {
			if v > 0 && !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		return barChart(title, categories, series, 0, 1, false, unit)
	}
	return barChart(title, categories, series, math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi))), false, unit)
}

// barChart draws linear bars (min 0) or, with min > 0, bars on a log axis from min to max.
func barChart(title string, categories []string, series []Series, min, max float64, percent bool, unit string) []byte {
	logScale := min > 0
	frac := func(v float64) float64 { // position of v on the axis, 0..1
		if logScale {
			if v <= min {
				return 0
			}
			return math.Min(math.Log10(v/min)/math.Log10(max/min), 1)
		}
		return math.Min(v, max) / max
	}
	const (
		right, top = 20.0, 50.0
		barW, gap  = 14.0, 18.0
	)
	if max <= 0 || math.IsNaN(max) {
		max = 1
	}
	groupW := barW*float64(len(series)) + gap
	// Category labels are rotated by 40°: make room for the longest below the axis and for the first on the left.
	longest := 0
	for _, c := range categories {
		longest = int(math.Max(float64(longest), float64(len(c))))
	}
	bottom := 30 + 6.5*float64(longest)*0.65
	left := 60.0
	if len(categories) > 0 {
		left = math.Max(left, 6.5*float64(len(categories[0]))*0.77-groupW/2+10)
	}
	plotW := math.Max(groupW*float64(len(categories)), 120)
	plotH := 260.0
	w, h := math.Max(left+plotW+right, left+8*float64(len(title))), top+plotH+bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", left, html.EscapeString(title))
	// legend
	x := left
	for _, s := range series {
		fmt.Fprintf(&b, `<rect x="%.0f" y="30" width="10" height="10" fill="%s"/><text x="%.0f" y="39">%s</text>`+"\n", x, s.Color, x+14, html.EscapeString(s.Name))
		x += 20 + 7*float64(len(s.Name))
	}
	// axis and grid
	ticks := 4
	if logScale {
		ticks = int(math.Round(math.Log10(max / min)))
	}
	for i := 0; i <= ticks; i++ {
		v := max * float64(i) / float64(ticks)
		if logScale {
			v = min * math.Pow(10, float64(i))
		}
		y := top + plotH - plotH*float64(i)/float64(ticks)
		label := fmt.Sprintf("%g%s", v, unit)
		if percent {
			label = fmt.Sprintf("%.0f%%", v*100)
		}
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, y, left+plotW, y, left-6, y+4, label)
	}
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#333"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	for ci, c := range categories {
		gx := left + gap/2 + float64(ci)*groupW
		for si, s := range series {
			bx := gx + float64(si)*barW
			v := math.NaN()
			if ci < len(s.Values) {
				v = s.Values[ci]
			}
			if math.IsNaN(v) {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="8" fill="#999" transform="rotate(-90 %.1f %.1f)">n/a</text>`+"\n",
					bx+barW/2+3, top+plotH-4, bx+barW/2+3, top+plotH-4)
				continue
			}
			bh := plotH * frac(v)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				bx, top+plotH-bh, barW-2, bh, s.Color, html.EscapeString(c), html.EscapeString(s.Name), fmtValue(v, percent, unit))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="7" text-anchor="middle" fill="#333">%s</text>`+"\n",
				bx+(barW-2)/2, top+plotH-bh-2, shortValue(v, percent))
		}
		lx, ly := gx+groupW/2-gap/2, top+plotH+10
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" transform="rotate(-40 %.1f %.1f)">%s</text>`+"\n", lx, ly, lx, ly, html.EscapeString(c))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// shortValue is the label over a bar: a whole percentage, or three significant digits.
func shortValue(v float64, percent bool) string {
	switch {
	case percent:
		return fmt.Sprintf("%.0f", v*100)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtValue(v float64, percent bool, unit string) string {
	if percent {
		return fmt.Sprintf("%.1f%%", v*100)
	}
	return fmt.Sprintf("%.3g%s", v, unit)
}
