// Command flexflow-bench is the load tool behind `make bench`. It runs the
// scenarios that need a whole system (webhook ack through the gateway against
// a minimal edge and plain JetStream, the same with contract-sync scaled to two
// replicas on a 3-node NATS cluster, and the month-end burst against Flex
// HRM's rate limit), folds in the Go benchmark output of the modules, and
// writes BENCHMARKS.md: ratios measured in one run.
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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/deploy/internal/bench"
)

func main() {
	duration := flag.Duration("duration", 2*time.Second, "how long each ack variant runs per round")
	rounds := flag.Int("rounds", 7, "rounds of every ack variant (ratios are per-round medians)")
	concurrency := flag.Int("concurrency", 32, "concurrent webhook senders")
	scenarios := flag.String("scenarios", "ack,cluster,burst", "comma-separated scenarios to run: ack, cluster, burst")
	clusterRounds := flag.Int("cluster-rounds", 5, "rounds of every variant of the 3-node cluster scenario")
	burstContracts := flag.Int("burst-contracts", 1000, "contracts signed at once in the month-end burst (the burst takes about calls ÷ rate: ~10 calls per contract at 20/s is ~8 min for 1000)")
	burstRate := flag.Float64("burst-rate", 20, "Flex HRM sandbox requests per second during the burst")
	burstSize := flag.Int("burst-size", 5, "Flex HRM sandbox token bucket size (burst) during the burst")
	burstRetryAfter := flag.Int("burst-retry-after", 1, "Retry-After seconds the Flex HRM sandbox answers with its 429s")
	burstTimeout := flag.Duration("burst-timeout", 45*time.Minute, "bound on the burst phase")
	goBench := flag.String("go-bench", "", "file with `go test -bench` output to include")
	out := flag.String("out", "BENCHMARKS.md", "Markdown report to write")
	only := flag.String("only", "", "run only the ack variant whose name starts with this (profiling)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
	logLevel := flag.String("log-level", "error", "the services' log level (info shows each client's pacing decisions during the burst)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	run := map[string]bool{}
	for _, s := range strings.Split(*scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !slices.Contains([]string{"ack", "cluster", "burst"}, s) {
				fail(fmt.Errorf("unknown scenario %q (want ack, cluster or burst)", s))
			}
			run[s] = true
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail(fmt.Errorf("-log-level: %w", err))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var ack []bench.Result
	if run["ack"] || *only != "" {
		fmt.Fprintf(os.Stderr, "webhook ack: %d senders, %d rounds of %s per variant\n", *concurrency, *rounds, *duration)
		var err error
		ack, err = bench.AckScenario(ctx, bench.AckOptions{Only: *only, Rounds: *rounds, Duration: *duration, Concurrency: *concurrency, Partitions: 16, Logger: logger})
		if err != nil {
			fail(err)
		}
		if *only != "" {
			for _, r := range ack {
				fmt.Printf("%s: %.0f acks/s p50 %s p99 %s\n", r.Name, r.PerSecond, r.P50, r.P99)
			}
			return
		}
	}
	var cluster *bench.ClusterResult
	if run["cluster"] {
		fmt.Fprintf(os.Stderr, "webhook ack on a 3-node NATS cluster: %d senders, %d rounds of %s per variant\n", *concurrency, *clusterRounds, *duration)
		r, err := bench.ClusterScenario(ctx, bench.ClusterOptions{Rounds: *clusterRounds, Duration: *duration, Concurrency: *concurrency, Partitions: 16, Logger: logger})
		if err != nil {
			fail(fmt.Errorf("cluster: %w", err))
		}
		cluster = &r
	}
	var burst *bench.BurstResult
	if run["burst"] {
		fmt.Fprintf(os.Stderr, "month-end burst: %d contracts, Flex HRM at %.0f requests/s (burst %d, Retry-After %ds)\n", *burstContracts, *burstRate, *burstSize, *burstRetryAfter)
		r, err := bench.BurstScenario(ctx, bench.BurstOptions{Contracts: *burstContracts, RequestsPerSecond: *burstRate, Burst: *burstSize,
			RetryAfterSeconds: *burstRetryAfter, Timeout: *burstTimeout, Logger: logger, Progress: os.Stderr})
		if err != nil {
			fail(fmt.Errorf("burst: %w", err))
		}
		burst = &r
	}

	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# flexflow benchmarks\n\nMeasured by `make bench` on %s: %d CPUs (%s), %s, %s/%s, %s.\n",
		host, runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("Every figure that matters is a ratio against a baseline measured in the same run, so it\nmeans the same on another machine; absolute numbers are this machine's.\n\n")
	var goResults []bench.GoBenchmark
	if *goBench != "" {
		var err error
		if goResults, err = bench.ParseGoBenchFile(*goBench); err != nil {
			fail(err)
		}
	}
	b.WriteString(bench.Summary(ack, cluster, burst, goResults))
	if ack != nil {
		b.WriteString("## Webhook ack (verified and stored in JetStream)\n\n")
		fmt.Fprintf(&b, "Load generator in the same process, %d concurrent senders, %d rounds of %s per variant, variants back to back in rotating order; throughput and latency are the median round, ratios the median of per-round ratios.\n\n", *concurrency, *rounds, *duration)
		b.WriteString("| path | acks/s | p50 | p99 | errors | vs minimal edge | vs JetStream publish |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range ack {
			fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %d | %.2f | %.2f |\n", r.Name, r.PerSecond, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Errors, r.VsEdge, r.VsJetStream)
		}
		fmt.Fprintf(&b, "\nGoal: flexflow ≥ 0.5 of the minimal edge. Measured: **%.2f** (rounds ranged %.2f–%.2f).\n\n", ack[2].VsEdge, ack[2].RatioSpread[0], ack[2].RatioSpread[1])
	}
	if cluster != nil {
		b.WriteString(bench.ClusterMarkdown(*cluster, ack))
	}
	if burst != nil {
		b.WriteString(bench.BurstMarkdown(*burst))
	}
	if goResults != nil {
		b.WriteString(bench.GoBenchMarkdown(goResults, *goBench))
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fail(err)
	}
	fmt.Print(b.String())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "flexflow-bench:", err)
	os.Exit(1)
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
