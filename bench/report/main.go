// Command report turns the results of one bench/run.sh run into a table and
// a chart. It reads the *-meta.json file and the siobench -json results of
// one run from a results directory, prints one Markdown table with every
// figure of every server, the server CPU time per operation, the load
// generator's own CPU use and the ratios of the Go server to the Node
// server, and can write docs/benchmarks.md with that table and an SVG chart
// of the ratios against the targets.
//
// Usage:
//
//	go run ./bench/report -results bench/results [-stamp 20260101T000000Z] [-md docs/benchmarks.md -svg docs/benchmarks.svg]
//
// Without -stamp it reports the latest run in the directory.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	results := flag.String("results", "bench/results", "directory of the run.sh results")
	stamp := flag.String("stamp", "", "run to report, the prefix of its files (default: the latest run)")
	base := flag.String("base", "node", "server the others are compared with")
	md := flag.String("md", "", "write a Markdown report with the table and the chart to this file")
	svg := flag.String("svg", "", "write the chart (SVG) to this file; the Markdown report links to it")
	slopeSVG := flag.String("slope-svg", "", "write the chart of the slope runs (SVG) to this file; the Markdown report links to it")
	flag.Parse()
	if err := run(os.Stdout, *results, *stamp, *base, *md, *svg, *slopeSVG); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(stdout io.Writer, dir, stamp, base, mdPath, svgPath, slopeSVGPath string) error {
	if stamp == "" {
		var err error
		if stamp, err = latestStamp(dir); err != nil {
			return err
		}
	}
	r, err := load(dir, stamp, base)
	if err != nil {
		return err
	}
	table := r.table()
	fmt.Fprintln(stdout, r.header())
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, table)
	fmt.Fprint(stdout, r.sections(""))
	if svgPath != "" {
		if err := os.WriteFile(svgPath, []byte(r.chart()), 0o644); err != nil {
			return err
		}
	}
	slope := r.slopeChart()
	if slopeSVGPath != "" && slope != "" {
		if err := os.WriteFile(slopeSVGPath, []byte(slope), 0o644); err != nil {
			return err
		}
	}
	if mdPath != "" {
		rel := func(path string) string {
			if path == "" {
				return ""
			}
			if rel, err := filepath.Rel(filepath.Dir(mdPath), path); err == nil {
				return filepath.ToSlash(rel)
			}
			return ""
		}
		slopeRel := ""
		if slope != "" {
			slopeRel = rel(slopeSVGPath)
		}
		if err := os.WriteFile(mdPath, []byte(r.markdown(table, rel(svgPath), slopeRel)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// meta is the description of a run written by run.sh.
type meta struct {
	Date       string  `json:"date"`
	Commit     string  `json:"commit"`
	Kernel     string  `json:"kernel"`
	CPUs       int     `json:"cpus"`
	Go         string  `json:"go"`
	Node       string  `json:"node"`
	Servers    string  `json:"servers"`
	Scenarios  string  `json:"scenarios"`
	Reps       int     `json:"reps"`
	ConnsN     int     `json:"conns_n"`
	BcastN     int     `json:"bcast_n"`
	BcastCount int     `json:"bcast_count"`
	EchoC      int     `json:"echo_c"`
	PollC      int     `json:"poll_c"`
	Duration   string  `json:"duration"`
	Warmup     string  `json:"warmup"`
	Payload    int     `json:"payload"`
	ServerCPU  string  `json:"server_cpu"`
	ClientCPU  string  `json:"client_cpu"`
	LoadStart  float64 `json:"load_start"`
}

// result is the part of a siobench -json result the report uses.
type result struct {
	Scenario string  `json:"scenario"`
	Rate     float64 `json:"rate_per_s"`
	Ops      int64   `json:"ops"`
	Latency  struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"latency_ms"`
	Server *struct {
		CPUPerOp   float64 `json:"cpu_us_per_op"`
		CPUUtil    float64 `json:"cpu_util"`
		MemPerConn float64 `json:"mem_per_conn_bytes"`
	} `json:"server"`
	Client struct {
		CPUUtil float64 `json:"cpu_util"`
	} `json:"client"`
	Lost      int64 `json:"lost"`
	Duplicate int64 `json:"duplicate"`
	Wrong     int64 `json:"wrong"`
	OK        bool  `json:"ok"`
}

// report holds every result of one run, by server, scenario and repetition
// (nil where a run produced no result).
type report struct {
	meta    meta
	base    string
	servers []string
	scens   []string
	runs    map[string]map[string][]*result
	loads   []float64 // the 1-minute load average before each run
	// runList lists the runs in the order they ran, with the load before each;
	// planned[server][scenario] is true for the pairs run.sh ran. Without the
	// load file (an older run), every pair counts as planned.
	runList []runLoad
	planned map[string]map[string]bool
}

// runLoad is one run and the 1-minute load average before it.
type runLoad struct {
	server, scenario, rep string
	load                  float64
}

func latestStamp(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*-meta.json"))
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no *-meta.json in %s: run bench/run.sh first", dir)
	}
	sort.Strings(files)
	return strings.TrimSuffix(filepath.Base(files[len(files)-1]), "-meta.json"), nil
}

func load(dir, stamp, base string) (*report, error) {
	r := &report{base: base, runs: map[string]map[string][]*result{}}
	b, err := os.ReadFile(filepath.Join(dir, stamp+"-meta.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &r.meta); err != nil {
		return nil, fmt.Errorf("%s-meta.json: %w", stamp, err)
	}
	r.servers = strings.Fields(r.meta.Servers)
	r.scens = strings.Fields(r.meta.Scenarios)
	// The base server first, so that ratios read "other/base".
	sort.SliceStable(r.servers, func(i, j int) bool { return r.servers[i] == base && r.servers[j] != base })
	for _, s := range r.servers {
		r.runs[s] = map[string][]*result{}
		for _, sc := range r.scens {
			reps := make([]*result, r.meta.Reps)
			for i := range reps {
				name := fmt.Sprintf("%s-%s-%s-%d.json", stamp, s, sc, i+1)
				b, err := os.ReadFile(filepath.Join(dir, name))
				if errors.Is(err, os.ErrNotExist) {
					continue
				} else if err != nil {
					return nil, err
				}
				var res result
				if err := json.Unmarshal(b, &res); err != nil {
					continue // an interrupted run leaves an empty or partial file
				}
				reps[i] = &res
			}
			r.runs[s][sc] = reps
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, stamp+"-load.txt")); err == nil {
		r.planned = map[string]map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				continue
			}
			r.loads = append(r.loads, v)
			if len(f) == 4 {
				r.runList = append(r.runList, runLoad{server: f[0], scenario: f[1], rep: f[2], load: v})
				if r.planned[f[0]] == nil {
					r.planned[f[0]] = map[string]bool{}
				}
				r.planned[f[0]][f[1]] = true
			}
		}
	}
	return r, nil
}

// figure is one row of the table: a value read from the results of one
// scenario, and optionally the target of its ratio to the base server.
type figure struct {
	scenario string
	name     string
	unit     string
	format   string
	value    func(*result) (float64, bool)
	// target, when positive, is the largest ratio (other/base) allowed.
	target float64
	// short names the figure in the chart.
	short string
	// noRatio leaves the ratio out: the figure describes the conditions
	// of the run (such as the load generator's CPU use), not a result.
	noRatio bool
}

func rate(r *result) (float64, bool) { return r.Rate, r.Ops > 0 }
func p50(r *result) (float64, bool)  { return r.Latency.P50, r.Ops > 0 }
func p99(r *result) (float64, bool)  { return r.Latency.P99, r.Ops > 0 }
func cpuPerOp(r *result) (float64, bool) {
	if r.Server == nil || r.Ops == 0 {
		return 0, false
	}
	return r.Server.CPUPerOp, true
}
func serverUtil(r *result) (float64, bool) {
	if r.Server == nil {
		return 0, false
	}
	return 100 * r.Server.CPUUtil, true
}
func clientUtil(r *result) (float64, bool) { return 100 * r.Client.CPUUtil, true }
func memPerConn(r *result) (float64, bool) {
	if r.Server == nil || r.Server.MemPerConn <= 0 {
		return 0, false
	}
	return r.Server.MemPerConn / 1024, true
}

var figures = []figure{
	{scenario: "conns", name: "connections/s", format: "%.0f", value: rate},
	{scenario: "conns", name: "connect p99", unit: "ms", format: "%.1f", value: p99},
	{scenario: "conns", name: "server RSS per idle connection", unit: "KiB", format: "%.2f", value: memPerConn, target: 0.5, short: "memory per connection"},
	{scenario: "conns", name: "server CPU per connection", unit: "µs", format: "%.0f", value: cpuPerOp, target: 0.4, short: "CPU per connection"},
	{scenario: "conns", name: "siobench CPU", unit: "% of a core", format: "%.0f", value: clientUtil, noRatio: true},
	{scenario: "echo", name: "acks/s", format: "%.0f", value: rate},
	{scenario: "echo", name: "latency p50", unit: "ms", format: "%.2f", value: p50},
	{scenario: "echo", name: "latency p99", unit: "ms", format: "%.2f", value: p99, target: 0.7, short: "echo latency p99"},
	{scenario: "echo", name: "server CPU per ack", unit: "µs", format: "%.1f", value: cpuPerOp, target: 0.6, short: "CPU per echo ack"},
	{scenario: "echo", name: "server CPU", unit: "% of a core", format: "%.0f", value: serverUtil, noRatio: true},
	{scenario: "echo", name: "siobench CPU", unit: "% of a core", format: "%.0f", value: clientUtil, noRatio: true},
	{scenario: "broadcast", name: "deliveries/s", format: "%.0f", value: rate},
	{scenario: "broadcast", name: "time to last delivery p50", unit: "ms", format: "%.1f", value: p50},
	{scenario: "broadcast", name: "time to last delivery p99", unit: "ms", format: "%.1f", value: p99, target: 0.7, short: "broadcast p99"},
	{scenario: "broadcast", name: "server CPU per delivery", unit: "µs", format: "%.2f", value: cpuPerOp, target: 0.7, short: "CPU per delivery"},
	{scenario: "broadcast", name: "siobench CPU", unit: "% of a core", format: "%.0f", value: clientUtil, noRatio: true},
	{scenario: "polling", name: "acks/s", format: "%.0f", value: rate},
	{scenario: "polling", name: "latency p99", unit: "ms", format: "%.1f", value: p99},
	{scenario: "polling", name: "server CPU per ack", unit: "µs", format: "%.1f", value: cpuPerOp, target: 1, short: "CPU per polling ack"},
	{scenario: "polling", name: "siobench CPU", unit: "% of a core", format: "%.0f", value: clientUtil, noRatio: true},
}

// values returns the figure's value for each repetition of server, with
// ok false for a repetition without a usable result.
func (r *report) values(server string, f figure) ([]float64, []bool) {
	reps := r.runs[server][f.scenario]
	vs := make([]float64, len(reps))
	oks := make([]bool, len(reps))
	for i, res := range reps {
		if res == nil || !res.OK {
			continue
		}
		vs[i], oks[i] = f.value(res)
	}
	return vs, oks
}

// ratio is the comparison of a server with the base server on one figure:
// the ratio of the medians and the range of the per-repetition ratios
// (repetition i of one server with repetition i of the other).
type ratio struct {
	median, lo, hi float64
	ok             bool
}

func (r *report) ratio(server string, f figure) ratio { return r.ratioOf(server, r.base, f) }

func median(vs []float64, oks []bool) (float64, bool) {
	var xs []float64
	for i, v := range vs {
		if oks[i] {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}

func (r *report) others() []string {
	var out []string
	for _, s := range r.servers {
		if s != r.base {
			out = append(out, s)
		}
	}
	return out
}

// table returns the Markdown table of every figure.
func (r *report) table() string {
	var b strings.Builder
	b.WriteString("| scenario | figure |")
	for _, s := range r.servers {
		fmt.Fprintf(&b, " %s |", s)
	}
	for _, s := range r.others() {
		fmt.Fprintf(&b, " %s/%s |", s, r.base)
	}
	b.WriteString(" target | met (" + strings.Join(r.goRows(), " / ") + ") |\n|---|---|")
	for range r.servers {
		b.WriteString("--:|")
	}
	for range r.others() {
		b.WriteString("--:|")
	}
	b.WriteString("---|---|\n")
	for _, f := range figures {
		if !r.has(f.scenario) {
			continue
		}
		name := f.name
		if f.unit != "" {
			name += " (" + f.unit + ")"
		}
		fmt.Fprintf(&b, "| %s | %s |", f.scenario, name)
		for _, s := range r.servers {
			vs, oks := r.values(s, f)
			fmt.Fprintf(&b, " %s |", joinValues(f.format, vs, oks))
		}
		var mets []string // one verdict per Go row held to the targets (not go-metrics)
		for _, s := range r.others() {
			if f.noRatio {
				b.WriteString(" |")
				continue
			}
			q := r.ratio(s, f)
			fmt.Fprintf(&b, " %s |", q.String())
			if f.target > 0 && s != metricsRow {
				mets = append(mets, verdict(q, f.target))
			}
		}
		met := strings.Join(mets, " / ")
		target := ""
		if f.target > 0 {
			target = fmt.Sprintf("≤ %.2gx", f.target)
		}
		fmt.Fprintf(&b, " %s | %s |\n", target, met)
	}
	// Correctness: every message checked, in every run.
	fmt.Fprintf(&b, "| all | lost, duplicated or wrong messages |")
	total := map[string]int64{}
	for _, s := range r.servers {
		var n int64
		failed := 0
		for _, sc := range r.scens {
			if !r.ran(s, sc) {
				continue
			}
			for _, res := range r.runs[s][sc] {
				if res == nil || !res.OK {
					failed++
				}
				if res != nil {
					n += res.Lost + res.Duplicate + res.Wrong
				}
			}
		}
		total[s] = n
		cell := strconv.FormatInt(n, 10)
		if failed > 0 {
			cell += fmt.Sprintf(" (%d runs failed or missing)", failed)
		}
		fmt.Fprintf(&b, " %s |", cell)
	}
	met := "yes"
	for _, s := range r.others() {
		b.WriteString(" |")
		if total[s] != 0 || r.failed(s) {
			met = "**no**"
		}
	}
	fmt.Fprintf(&b, " 0 | %s |\n", met)
	return b.String()
}

func (r *report) has(scenario string) bool {
	for _, s := range r.scens {
		if s == scenario {
			return true
		}
	}
	return false
}

// ran reports whether run.sh ran scenario on server (every pair, for a run
// without the load file).
func (r *report) ran(server, scenario string) bool {
	return r.planned == nil || r.planned[server][scenario]
}

func (r *report) failed(server string) bool {
	for _, sc := range r.scens {
		if !r.ran(server, sc) {
			continue
		}
		for _, res := range r.runs[server][sc] {
			if res == nil || !res.OK {
				return true
			}
		}
	}
	return false
}

func verdict(q ratio, target float64) string {
	switch {
	case !q.ok:
		return "?"
	case q.median <= target:
		return "yes"
	default:
		return "**no**"
	}
}

func joinValues(format string, vs []float64, oks []bool) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if oks[i] {
			parts[i] = fmt.Sprintf(format, v)
		} else {
			parts[i] = "–"
		}
	}
	return strings.Join(parts, " / ")
}

// String formats the ratio as "0.53 (0.51–0.55)", the range omitted when
// it is a single value.
func (q ratio) String() string {
	if !q.ok {
		return "–"
	}
	s := fmt.Sprintf("%.2f", q.median)
	if lo, hi := fmt.Sprintf("%.2f", q.lo), fmt.Sprintf("%.2f", q.hi); lo != hi {
		s += " (" + lo + "–" + hi + ")"
	}
	return s
}

// header describes the conditions of the run in one paragraph.
func (r *report) header() string {
	m := r.meta
	s := fmt.Sprintf("Run %s, commit %s, %s, node %s, kernel %s, %d CPUs (server on CPU %s, siobench on CPU %s). "+
		"%d repetitions, shown as rep1 / rep2 / ...; ratios are of the medians, with the range of the per-repetition ratios. "+
		"conns N=%d, echo C=%d, broadcast to a room of %d × %d, polling C=%d, %s per echo/polling run after %s of warm-up, %d B payloads.",
		m.Date, m.Commit, m.Go, m.Node, m.Kernel, m.CPUs, m.ServerCPU, m.ClientCPU,
		m.Reps, m.ConnsN, m.EchoC, m.BcastN, m.BcastCount, m.PollC, m.Duration, m.Warmup, m.Payload)
	if m.LoadStart > 0 || len(r.loads) > 0 {
		s += fmt.Sprintf(" Load average (1 min) before the run: %.2f", m.LoadStart)
		if len(r.loads) > 0 {
			lo, hi := r.loads[0], r.loads[0]
			for _, l := range r.loads {
				lo, hi = min(lo, l), max(hi, l)
			}
			s += fmt.Sprintf("; before each run %.2f–%.2f (the benchmark's own server and client account for up to 2)", lo, hi)
		}
		s += "."
	}
	return s
}

func (r *report) markdown(table, svgRel, slopeRel string) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`bench/run.sh`, then `bench/report`); see `bench/README.md` for the\n")
	b.WriteString("scenarios and the server contract. The servers run one at a time on the same 2-core machine,\n")
	b.WriteString("the server pinned to one core and the load generator (`cmd/siobench`) to the other. Compare\n")
	b.WriteString("server CPU time per operation and memory per connection: rates are capped by the load\n")
	b.WriteString("generator's single core (see its CPU use in the table).\n\n")
	b.WriteString(r.header() + "\n\n")
	if svgRel != "" {
		fmt.Fprintf(&b, "![Ratios to the Node server against the targets](%s)\n\n", svgRel)
	}
	b.WriteString(table)
	b.WriteString(r.sections(slopeRel))
	return b.String()
}
