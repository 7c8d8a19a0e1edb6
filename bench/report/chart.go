package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth  = 760
	labelWidth  = 220
	plotLeft    = labelWidth + 10
	plotRight   = chartWidth - 60
	rowHeight   = 34
	barHeight   = 18
	chartTop    = 56
	chartBottom = 64
)

// chart returns an SVG bar chart of the ratio of each other server to the
// base server on every figure with a target: one bar per figure at the
// median ratio, a whisker over the range of the per-repetition ratios, a
// mark at the target and a line at 1 (the base server).
func (r *report) chart() string {
	type bar struct {
		label  string
		q      ratio
		target float64
	}
	var bars []bar
	others := r.goRows()
	for _, f := range figures {
		if f.target <= 0 || !r.has(f.scenario) {
			continue
		}
		for _, s := range others {
			label := f.short
			if len(others) > 1 {
				label = s + ": " + label
			}
			bars = append(bars, bar{label: label, q: r.ratio(s, f), target: f.target})
		}
	}
	top := 1.2
	for _, b := range bars {
		if b.q.ok {
			top = max(top, b.q.hi*1.08, b.q.median*1.08)
		}
		top = max(top, b.target*1.08)
	}
	step := 0.2
	if top > 3 {
		step = 0.5
	}
	if top > 6 {
		step = 1
	}
	top = math.Ceil(top/step) * step
	x := func(v float64) float64 { return plotLeft + (plotRight-plotLeft)*v/top }

	height := chartTop + rowHeight*len(bars) + chartBottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	title := "Go server / Node server, same run (lower is better)"
	if len(others) != 1 || others[0] != "go" {
		title = "Ratio to the " + r.base + " server, same run (lower is better)"
	}
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", 10, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="40" fill="#555">%s</text>`+"\n", 10,
		html.EscapeString(fmt.Sprintf("run %s, commit %s, %d repetitions; bar: median ratio, whisker: range of the per-repetition ratios",
			r.meta.Date, r.meta.Commit, r.meta.Reps)))

	plotBottom := chartTop + rowHeight*len(bars)
	// Grid and axis labels.
	for v := 0.0; v <= top+1e-9; v += step {
		xv := x(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e0e0e0"/>`+"\n", xv, chartTop-4, xv, plotBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>`+"\n", xv, plotBottom+16, trimFloat(v))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#555">ratio to %s</text>`+"\n",
		(plotLeft+plotRight)/2, plotBottom+34, html.EscapeString(r.base))
	// The base server.
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-width="1.5"/>`+"\n", x(1), chartTop-8, x(1), plotBottom)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%s = 1</text>`+"\n", x(1), chartTop-12, html.EscapeString(r.base))

	for i, bb := range bars {
		y := chartTop + rowHeight*i + (rowHeight-barHeight)/2
		cy := float64(y) + barHeight/2
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n",
			labelWidth, cy, html.EscapeString(bb.label))
		if !bb.q.ok {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" dominant-baseline="middle" fill="#c62828">no result</text>`+"\n", plotLeft+4, cy)
		} else {
			color := "#2e7d32"
			if bb.q.median > bb.target {
				color = "#c62828"
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.8"/>`+"\n",
				plotLeft, y, x(bb.q.median)-plotLeft, barHeight, color)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222"/>`+"\n", x(bb.q.lo), cy, x(bb.q.hi), cy)
			for _, v := range []float64{bb.q.lo, bb.q.hi} {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222"/>`+"\n", x(v), cy-5, x(v), cy+5)
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%.2f</text>`+"\n",
				max(x(bb.q.median), x(bb.q.hi))+6, cy, bb.q.median)
		}
		// The target.
		tx := x(bb.target)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#1565c0" stroke-width="2.5" stroke-dasharray="3,2"/>`+"\n",
			tx, y-4, tx, y+barHeight+4)
	}
	// Legend.
	ly := height - 18
	fmt.Fprintf(&b, `<rect x="10" y="%d" width="12" height="12" fill="#2e7d32" fill-opacity="0.8"/><text x="28" y="%d">target met</text>`+"\n", ly-10, ly)
	fmt.Fprintf(&b, `<rect x="120" y="%d" width="12" height="12" fill="#c62828" fill-opacity="0.8"/><text x="138" y="%d">target missed</text>`+"\n", ly-10, ly)
	fmt.Fprintf(&b, `<line x1="250" y1="%d" x2="250" y2="%d" stroke="#1565c0" stroke-width="2.5" stroke-dasharray="3,2"/><text x="258" y="%d">target (largest ratio allowed)</text>`+"\n", ly-11, ly+3, ly)
	b.WriteString("</svg>\n")
	return b.String()
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}
