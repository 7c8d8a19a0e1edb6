package main

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The rows of the Go server, by how it is mounted (see bench/servers/go).
const (
	plainRow   = "go"         // plain net/http
	echoRow    = "go-echo"    // Echo v5 with sioecho
	metricsRow = "go-metrics" // net/http with the metrics package's observer
)

// metricsTarget is the largest CPU per delivery allowed with metrics on, as a
// ratio to metrics off (issue 18).
const metricsTarget = 1.05

// ratioOf compares server with other on figure f: the ratio of the medians and
// the range of the per-repetition ratios.
func (r *report) ratioOf(server, other string, f figure) ratio {
	bv, bok := r.values(other, f)
	sv, sok := r.values(server, f)
	bm, ok1 := median(bv, bok)
	sm, ok2 := median(sv, sok)
	if !ok1 || !ok2 || bm == 0 {
		return ratio{}
	}
	out := ratio{median: sm / bm, lo: sm / bm, hi: sm / bm, ok: true}
	first := true
	for i := range min(len(bv), len(sv)) {
		if !bok[i] || !sok[i] || bv[i] == 0 {
			continue
		}
		q := sv[i] / bv[i]
		if first {
			out.lo, out.hi, first = q, q, false
		}
		out.lo, out.hi = min(out.lo, q), max(out.hi, q)
	}
	return out
}

// hasServer reports whether server is one of the run's servers.
func (r *report) hasServer(server string) bool {
	for _, s := range r.servers {
		if s == server {
			return true
		}
	}
	return false
}

// goRows returns the rows compared with the base server against the targets:
// the Go server as plain net/http and as mounted in Echo, when they ran.
func (r *report) goRows() []string {
	var out []string
	for _, s := range r.others() {
		if s != metricsRow {
			out = append(out, s)
		}
	}
	return out
}

// targetTable returns the table of issue 16's targets: each Go row's ratio to
// the base server on every figure with a target, and whether it is met.
func (r *report) targetTable() string {
	rows := r.goRows()
	if len(rows) == 0 || !r.hasServer(r.base) {
		return ""
	}
	var b strings.Builder
	b.WriteString("| figure |")
	for _, s := range rows {
		fmt.Fprintf(&b, " %s/%s | met |", s, r.base)
	}
	b.WriteString(" target |\n|---|")
	for range rows {
		b.WriteString("--:|---|")
	}
	b.WriteString("--:|\n")
	for _, f := range figures {
		if f.target <= 0 || !r.has(f.scenario) {
			continue
		}
		name := f.name
		if f.unit != "" {
			name += " (" + f.unit + ")"
		}
		fmt.Fprintf(&b, "| %s: %s |", f.scenario, name)
		for _, s := range rows {
			q := r.ratio(s, f)
			fmt.Fprintf(&b, " %s | %s |", q.String(), verdict(q, f.target))
		}
		fmt.Fprintf(&b, " ≤ %.2gx |\n", f.target)
	}
	return b.String()
}

// valueRange returns the smallest and largest value of the repetitions.
func valueRange(vs []float64, oks []bool) (lo, hi float64, n int) {
	for i, v := range vs {
		if !oks[i] {
			continue
		}
		if n == 0 {
			lo, hi = v, v
		}
		lo, hi = min(lo, v), max(hi, v)
		n++
	}
	return lo, hi, n
}

// agreementTable returns the comparison of the two Go rows (net/http and
// Echo) on every figure: they agree within noise on a figure when the ranges
// of their repetitions overlap. The second result summarises it in a sentence.
func (r *report) agreementTable() (string, string) {
	if !r.hasServer(plainRow) || !r.hasServer(echoRow) {
		return "", ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| figure | %s | %s | %s/%s | agree within noise |\n|---|--:|--:|--:|---|\n", plainRow, echoRow, echoRow, plainRow)
	agree, total := 0, 0
	var differ []string
	for _, f := range figures {
		if f.noRatio || !r.has(f.scenario) || !r.ran(plainRow, f.scenario) || !r.ran(echoRow, f.scenario) {
			continue
		}
		pv, pok := r.values(plainRow, f)
		ev, eok := r.values(echoRow, f)
		plo, phi, pn := valueRange(pv, pok)
		elo, ehi, en := valueRange(ev, eok)
		verdict := "?"
		switch {
		case pn == 0 || en == 0:
		case pn < 2 && en < 2:
			verdict = "? (one repetition)"
		case plo <= ehi && elo <= phi:
			verdict = "yes"
			agree++
			total++
		default:
			verdict = "**no**"
			total++
			differ = append(differ, f.scenario+" "+f.name)
		}
		name := f.name
		if f.unit != "" {
			name += " (" + f.unit + ")"
		}
		fmt.Fprintf(&b, "| %s: %s | %s | %s | %s | %s |\n", f.scenario, name,
			joinValues(f.format, pv, pok), joinValues(f.format, ev, eok), r.ratioOf(echoRow, plainRow, f).String(), verdict)
	}
	if total == 0 {
		return b.String(), "Agreement within noise needs at least two repetitions of each Go row (REPS=2 or more)."
	}
	summary := fmt.Sprintf("The Go server mounted in Echo v5 with sioecho (%s) and on plain net/http (%s) agree within noise "+
		"(the ranges of their repetitions overlap) on %d of %d figures.", echoRow, plainRow, agree, total)
	if len(differ) > 0 {
		summary += " They differ on: " + strings.Join(differ, "; ") + "."
	}
	return b.String(), summary
}

// metricsTable returns the cost of the metrics observer: the Go server with
// metrics on against the same server with metrics off, per operation.
func (r *report) metricsTable() string {
	if !r.hasServer(plainRow) || !r.hasServer(metricsRow) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| figure | %s | %s | %s/%s | target | met |\n|---|--:|--:|--:|--:|---|\n", plainRow, metricsRow, metricsRow, plainRow)
	for _, f := range figures {
		if f.noRatio || !r.has(f.scenario) || !r.ran(metricsRow, f.scenario) || f.value == nil {
			continue
		}
		if f.short != "CPU per delivery" && f.short != "CPU per echo ack" {
			continue
		}
		pv, pok := r.values(plainRow, f)
		mv, mok := r.values(metricsRow, f)
		q := r.ratioOf(metricsRow, plainRow, f)
		target, met := "", ""
		if f.short == "CPU per delivery" {
			target, met = fmt.Sprintf("≤ %.2fx", metricsTarget), verdict(q, metricsTarget)
		}
		fmt.Fprintf(&b, "| %s: %s (%s) | %s | %s | %s | %s | %s |\n", f.scenario, f.name, f.unit,
			joinValues(f.format, pv, pok), joinValues(f.format, mv, mok), q.String(), target, met)
	}
	return b.String()
}

// loadTable returns the 1-minute load average before each run, one row per
// scenario and repetition.
func (r *report) loadTable() string {
	if len(r.runList) == 0 {
		return ""
	}
	type key struct{ scenario, rep string }
	var keys []key
	cells := map[key]map[string]float64{}
	for _, rl := range r.runList {
		k := key{rl.scenario, rl.rep}
		if cells[k] == nil {
			cells[k] = map[string]float64{}
			keys = append(keys, k)
		}
		cells[k][rl.server] = rl.load
	}
	var b strings.Builder
	b.WriteString("| scenario | rep |")
	for _, s := range r.servers {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString("\n|---|--:|")
	for range r.servers {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %s |", k.scenario, k.rep)
		for _, s := range r.servers {
			if v, ok := cells[k][s]; ok {
				fmt.Fprintf(&b, " %.2f |", v)
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// slopeFigures are the figures of the slope runs, read from conns@N and
// broadcast@N.
var slopeFigures = []figure{
	{scenario: "conns", name: "memory per connection", unit: "KiB", format: "%.2f", value: memPerConn},
	{scenario: "broadcast", name: "CPU per delivery", unit: "µs", format: "%.2f", value: cpuPerOp},
}

// slopeNs returns the connection counts of the slope runs, in order: those of
// conns@N and broadcast@N, and those of the conns and broadcast runs.
func (r *report) slopeNs() []int {
	seen := map[int]bool{}
	var ns []int
	add := func(v int) {
		if v > 0 && !seen[v] {
			seen[v] = true
			ns = append(ns, v)
		}
	}
	slope := false
	for _, sc := range r.scens {
		if _, n, ok := strings.Cut(sc, "@"); ok {
			slope = true
			if v, err := strconv.Atoi(n); err == nil {
				add(v)
			}
		}
	}
	if !slope {
		return nil
	}
	if r.has("conns") {
		add(r.meta.ConnsN)
	}
	if r.has("broadcast") {
		add(r.meta.BcastN)
	}
	sort.Ints(ns)
	return ns
}

// slopeServers returns the servers with slope results.
func (r *report) slopeServers() []string {
	var out []string
	for _, s := range r.servers {
		for _, n := range r.slopeNs() {
			if r.has(fmt.Sprintf("conns@%d", n)) && r.ran(s, fmt.Sprintf("conns@%d", n)) ||
				r.has(fmt.Sprintf("broadcast@%d", n)) && r.ran(s, fmt.Sprintf("broadcast@%d", n)) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// at returns figure f of the slope run at n connections: conns@N or
// broadcast@N, or the conns or broadcast run when it has n connections.
func (r *report) at(f figure, n int) figure {
	slope := fmt.Sprintf("%s@%d", f.scenario, n)
	switch {
	case r.has(slope):
	case f.scenario == "conns" && r.meta.ConnsN == n && r.has("conns"):
		return f
	case f.scenario == "broadcast" && r.meta.BcastN == n && r.has("broadcast"):
		return f
	}
	f.scenario = slope
	return f
}

// slopeTable returns memory per connection and CPU per delivery at each
// connection count of the slope runs, for each server, with the ratios to
// the base server.
func (r *report) slopeTable() string {
	ns, servers := r.slopeNs(), r.slopeServers()
	if len(ns) == 0 || len(servers) == 0 {
		return ""
	}
	var others []string
	for _, s := range servers {
		if s != r.base {
			others = append(others, s)
		}
	}
	var b strings.Builder
	b.WriteString("| figure | connections |")
	for _, s := range servers {
		fmt.Fprintf(&b, " %s |", s)
	}
	for _, s := range others {
		fmt.Fprintf(&b, " %s/%s |", s, r.base)
	}
	b.WriteString("\n|---|--:|")
	for range len(servers) + len(others) {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, f := range slopeFigures {
		for _, n := range ns {
			g := r.at(f, n)
			if !r.has(g.scenario) {
				continue
			}
			fmt.Fprintf(&b, "| %s (%s) | %d |", f.name, f.unit, n)
			for _, s := range servers {
				vs, oks := r.values(s, g)
				fmt.Fprintf(&b, " %s |", joinValues(f.format, vs, oks))
			}
			for _, s := range others {
				fmt.Fprintf(&b, " %s |", r.ratioOf(s, r.base, g).String())
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// slopeColors are the line colours of the servers in the slope chart.
var slopeColors = []string{"#616161", "#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a"}

// slopeChart returns an SVG chart of the slope: one panel per slope figure,
// the connection count on the x axis, a line through each server's medians
// and a whisker over the range of its repetitions at each point.
func (r *report) slopeChart() string {
	ns, servers := r.slopeNs(), r.slopeServers()
	if len(ns) == 0 || len(servers) == 0 {
		return ""
	}
	const (
		panelW, panelH = 370, 240
		left, top      = 60, 76
		gap            = 40
	)
	width := left + len(slopeFigures)*(panelW+gap)
	height := top + panelH + 90
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		width, height, width, height)
	b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>` + "\n")
	fmt.Fprintf(&b, `<text x="10" y="22" font-size="15" font-weight="bold">How cost grows with the connections (lower is better)</text>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="40" fill="#555">%s</text>`+"\n", html.EscapeString(fmt.Sprintf(
		"run %s, commit %s, %d repetitions; point: median, whisker: range of the repetitions", r.meta.Date, r.meta.Commit, r.meta.Reps)))
	maxN := float64(ns[len(ns)-1])
	for pi, f := range slopeFigures {
		x0 := float64(left + pi*(panelW+gap))
		y0 := float64(top + panelH)
		topV := 0.0
		for _, s := range servers {
			for _, n := range ns {
				vs, oks := r.values(s, r.at(f, n))
				if _, hi, k := valueRange(vs, oks); k > 0 {
					topV = max(topV, hi)
				}
			}
		}
		if topV <= 0 {
			topV = 1
		}
		step := niceStep(topV * 1.1 / 5)
		topV = math.Ceil(topV*1.1/step) * step
		x := func(n float64) float64 { return x0 + panelW*n/maxN }
		y := func(v float64) float64 { return y0 - panelH*v/topV }
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" font-weight="bold">%s (%s)</text>`+"\n", x0, top-6, html.EscapeString(f.name), html.EscapeString(f.unit))
		for v := 0.0; v <= topV+1e-9; v += step {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e0e0e0"/>`+"\n", x0, y(v), x0+panelW, y(v))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#555">%s</text>`+"\n", x0-6, y(v), strconv.FormatFloat(v, 'g', 4, 64))
		}
		for _, n := range ns {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%d</text>`+"\n", x(float64(n)), y0+16, n)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">connections</text>`+"\n", x0+panelW/2, y0+34)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", x0, y0, x0+panelW, y0)
		for si, s := range servers {
			color := slopeColors[si%len(slopeColors)]
			var pts []string
			for _, n := range ns {
				if !r.has(r.at(f, n).scenario) {
					continue
				}
				vs, oks := r.values(s, r.at(f, n))
				m, ok := median(vs, oks)
				if !ok {
					continue
				}
				lo, hi, _ := valueRange(vs, oks)
				xn := x(float64(n))
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xn, y(m)))
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`+"\n", xn, y(lo), xn, y(hi), color)
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", xn, y(m), color)
			}
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), color)
			}
		}
	}
	// Legend.
	ly := height - 18
	for si, s := range servers {
		lx := 10 + si*120
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			lx, ly-10, slopeColors[si%len(slopeColors)], lx+18, ly, html.EscapeString(s))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// sections returns the report's sections after the main table, each with
// its heading, in Markdown.
func (r *report) sections(slopeSVG string) string {
	var b strings.Builder
	if t := r.targetTable(); t != "" {
		b.WriteString("\n### Issue 16 targets: ours / Node, same run\n\n")
		b.WriteString("Ratios of the medians, with the range of the per-repetition ratios; met when the median ratio is at most the target.\n\n")
		b.WriteString(t)
	}
	if t, summary := r.agreementTable(); t != "" {
		b.WriteString("\n### The two Go rows: plain net/http and Echo v5 with sioecho\n\n")
		b.WriteString(summary + "\n\n")
		b.WriteString(t)
	}
	if t := r.metricsTable(); t != "" {
		b.WriteString("\n### Metrics on (Prometheus observer of package metrics) against off\n\n")
		b.WriteString(t)
	}
	if t := r.slopeTable(); t != "" {
		b.WriteString("\n### How cost grows: memory per connection and CPU per delivery by connection count\n\n")
		if slopeSVG != "" {
			fmt.Fprintf(&b, "![Memory per connection and CPU per delivery by connection count](%s)\n\n", slopeSVG)
		}
		b.WriteString(t)
	}
	if t := r.loadTable(); t != "" {
		b.WriteString("\n### Load average (1 minute) before each run\n\n")
		b.WriteString(t)
	}
	return b.String()
}
