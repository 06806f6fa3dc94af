package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// GoBenchmark is one result line of `go test -bench` output, its custom
// metrics (b.ReportMetric) included.
type GoBenchmark struct {
	// Package is the import path from the preceding "pkg:" line.
	Package string
	// Name is the benchmark's name without the -GOMAXPROCS suffix.
	Name       string
	Iterations int64
	// Metrics by unit, in the order printed: "ns/op", "B/op", "x50ms", ...
	Metrics []Metric
}

// Metric is one value and unit of a benchmark line.
type Metric struct {
	Value float64
	Unit  string
}

// Get returns the metric with unit and whether it was there.
func (g GoBenchmark) Get(unit string) (float64, bool) {
	for _, m := range g.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseGoBench reads `go test -bench` output: "pkg:" lines name the package
// of the Benchmark lines after them; anything else (test logs, PASS, ok
// lines) is skipped.
func ParseGoBench(r io.Reader) ([]GoBenchmark, error) {
	var out []GoBenchmark
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if p, ok := strings.CutPrefix(line, "pkg:"); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || len(fields)%2 != 0 {
			continue // a benchmark's own log line, not a result
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		g := GoBenchmark{Package: pkg, Name: procsSuffix.ReplaceAllString(fields[0], ""), Iterations: n}
		ok := true
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				ok = false
				break
			}
			g.Metrics = append(g.Metrics, Metric{Value: v, Unit: fields[i+1]})
		}
		if ok {
			out = append(out, g)
		}
	}
	return out, sc.Err()
}

// ParseGoBenchFile is ParseGoBench of a file.
func ParseGoBenchFile(path string) ([]GoBenchmark, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("go bench output: %w", err)
	}
	defer f.Close()
	return ParseGoBench(f)
}

// find returns the first benchmark whose name starts with prefix.
func find(gs []GoBenchmark, prefix string) (GoBenchmark, bool) {
	for _, g := range gs {
		if strings.HasPrefix(g.Name, prefix) {
			return g, true
		}
	}
	return GoBenchmark{}, false
}

// formatValue prints a metric compactly: integers as such, small values
// with three significant digits.
func formatValue(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return strconv.FormatInt(int64(v), 10)
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10 || v <= -10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// GoBenchMarkdown renders every benchmark as a table per package, one row
// per benchmark with its metrics as "value unit", standard units first.
func GoBenchMarkdown(gs []GoBenchmark, source string) string {
	var b strings.Builder
	b.WriteString("## Go benchmarks (`go test -bench` over every module)\n\n")
	fmt.Fprintf(&b, "Parsed from `%s`; custom metrics are the ratios and counts each benchmark documents in its comment.\n\n", source)
	if len(gs) == 0 {
		b.WriteString("No benchmark results in the output.\n\n")
		return b.String()
	}
	byPkg := map[string][]GoBenchmark{}
	var pkgs []string
	for _, g := range gs {
		if _, ok := byPkg[g.Package]; !ok {
			pkgs = append(pkgs, g.Package)
		}
		byPkg[g.Package] = append(byPkg[g.Package], g)
	}
	sort.Strings(pkgs)
	standard := map[string]int{"ns/op": 0, "B/op": 1, "allocs/op": 2}
	for _, pkg := range pkgs {
		fmt.Fprintf(&b, "**%s**\n\n| benchmark | runs | metrics |\n|---|---:|---|\n", strings.TrimPrefix(pkg, "github.com/flexflow/flexflow/"))
		for _, g := range byPkg[pkg] {
			ms := append([]Metric(nil), g.Metrics...)
			sort.SliceStable(ms, func(i, j int) bool {
				si, iok := standard[ms[i].Unit]
				sj, jok := standard[ms[j].Unit]
				switch {
				case iok && jok:
					return si < sj
				case iok != jok:
					return !iok // custom metrics first: they are the point
				}
				return false
			})
			parts := make([]string, len(ms))
			for i, m := range ms {
				parts[i] = formatValue(m.Value) + " " + m.Unit
			}
			fmt.Fprintf(&b, "| %s | %d | %s |\n", strings.TrimPrefix(g.Name, "Benchmark"), g.Iterations, strings.Join(parts, " · "))
		}
		b.WriteString("\n")
	}
	return b.String()
}
