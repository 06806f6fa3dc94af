// Command flexflow-bench is the load tool behind `make bench`. It runs the
// scenarios that need a whole system (webhook ack through the gateway against
// a minimal edge and plain JetStream), folds in the Go benchmark output of the
// modules, and writes BENCHMARKS.md: ratios measured in one run.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/deploy/internal/bench"
)

func main() {
	duration := flag.Duration("duration", 2*time.Second, "how long each variant runs per round")
	rounds := flag.Int("rounds", 7, "rounds of every variant (ratios are per-round medians)")
	concurrency := flag.Int("concurrency", 32, "concurrent webhook senders")
	goBench := flag.String("go-bench", "", "file with `go test -bench` output to include")
	out := flag.String("out", "BENCHMARKS.md", "Markdown report to write")
	only := flag.String("only", "", "run only the variant whose name starts with this (profiling)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	fmt.Fprintf(os.Stderr, "webhook ack: %d senders, %d rounds of %s per variant\n", *concurrency, *rounds, *duration)
	ack, err := bench.AckScenario(ctx, bench.AckOptions{Only: *only, Rounds: *rounds, Duration: *duration, Concurrency: *concurrency, Partitions: 16, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "flexflow-bench:", err)
		os.Exit(1)
	}
	if *only != "" {
		for _, r := range ack {
			fmt.Printf("%s: %.0f acks/s p50 %s p99 %s\n", r.Name, r.PerSecond, r.P50, r.P99)
		}
		return
	}
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# flexflow benchmarks\n\nMeasured by `make bench` on %s: %d CPUs (%s), %s, %s/%s, %s.\n",
		host, runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("Every figure that matters is a ratio against a baseline measured in the same run, so it\nmeans the same on another machine; absolute numbers are this machine's.\n\n")
	b.WriteString("## Webhook ack (verified and stored in JetStream)\n\n")
	fmt.Fprintf(&b, "Load generator in the same process, %d concurrent senders, %d rounds of %s per variant, variants back to back in rotating order; throughput and latency are the median round, ratios the median of per-round ratios.\n\n", *concurrency, *rounds, *duration)
	b.WriteString("| path | acks/s | p50 | p99 | errors | vs minimal edge | vs JetStream publish |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range ack {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %d | %.2f | %.2f |\n", r.Name, r.PerSecond, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Errors, r.VsEdge, r.VsJetStream)
	}
	fmt.Fprintf(&b, "\nGoal: flexflow ≥ 0.5 of the minimal edge. Measured: **%.2f** (rounds ranged %.2f–%.2f).\n", ack[2].VsEdge, ack[2].RatioSpread[0], ack[2].RatioSpread[1])
	if *goBench != "" {
		b.WriteString("\n## Go benchmarks (`go test -bench` over every module)\n\n")
		b.WriteString("Custom metrics carry the ratios and call counts each benchmark documents.\n\n```\n")
		f, err := os.Open(*goBench)
		if err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				line := sc.Text()
				if strings.HasPrefix(line, "Benchmark") || strings.HasPrefix(line, "pkg:") {
					b.WriteString(line + "\n")
				}
			}
			f.Close()
		}
		b.WriteString("```\n")
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "flexflow-bench:", err)
		os.Exit(1)
	}
	fmt.Print(b.String())
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
