package bench

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Benchmarks whose figures the summary quotes (services' Go benchmarks).
const (
	fetchBenchmark   = "BenchmarkFetchFlowWithBothSandboxesAdding50msPerCall"
	archiveBenchmark = "BenchmarkArchive/sink_50MB"
	archiveReal      = "BenchmarkArchive/real_clients_24MiB"
)

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// Summary is the table of every figure issue 8 asks for, with its goal and
// where it comes from; nil arguments are scenarios that did not run.
func Summary(ack []Result, cluster *ClusterResult, burst *BurstResult, gs []GoBenchmark) string {
	var b strings.Builder
	b.WriteString("## Summary\n\n| figure | goal | measured | |\n|---|---|---|---|\n")
	if len(ack) == 3 {
		fmt.Fprintf(&b, "| webhook acks/s through the gateway ÷ minimal single-process edge | ≥ 0.5 | %.2f (p50 %s, p99 %s) | %s |\n",
			ack[2].VsEdge, ack[2].P50.Round(10*time.Microsecond), ack[2].P99.Round(10*time.Microsecond), verdict(ack[2].VsEdge >= 0.5))
		fmt.Fprintf(&b, "| webhook acks/s through the gateway ÷ plain JetStream synchronous publish | reported | %.2f | |\n", ack[2].VsJetStream)
	}
	if cluster != nil {
		single := "not run"
		if len(ack) == 3 {
			single = fmt.Sprintf("%.0f acks/s single node", ack[2].PerSecond)
		}
		fmt.Fprintf(&b, "| webhook acks/s, contract-sync ×2 on a 3-node cluster (replicas 3) | reported beside single node, nothing lost | %.0f acks/s (%s); %d acked, %d stored, %d lost | %s |\n",
			cluster.Flexflow.PerSecond, single, cluster.Acked, cluster.Stored, cluster.Lost, verdict(cluster.Lost == 0))
	}
	if burst != nil {
		lost := burst.Options.Contracts - min(burst.SignSynced, burst.SignedOnce, burst.PeriodsOnce)
		fmt.Fprintf(&b, "| month-end burst: time ÷ ideal (calls needed ÷ %.0f/s) | ≤ 1.15 | %.3f (%s for %d calls; ideal %s) | %s |\n",
			burst.Options.RequestsPerSecond, burst.Ratio, burst.Elapsed.Round(time.Second), burst.CallsNeeded, burst.Ideal.Round(time.Second), verdict(burst.Ratio <= 1.15))
		fmt.Fprintf(&b, "| month-end burst: nothing lost, nothing twice | 0 / 0 | %d lost, %d Signed twice, %d failed | %s |\n",
			lost, burst.SignedTwice, burst.Failures, verdict(lost == 0 && burst.SignedTwice == 0 && burst.Failures == 0))
		fmt.Fprintf(&b, "| month-end burst: requests refused twice in a row for lack of backoff (retried sooner than Retry-After) | 0 | %d (of %d 429s) | %s |\n",
			burst.RefusedTwiceEarly, burst.Refused, verdict(burst.RefusedTwiceEarly == 0))
		fmt.Fprintf(&b, "| month-end burst: requests refused twice in a row, whatever the wait | reported | %d (of %d 429s) | |\n",
			burst.RefusedTwice, burst.Refused)
	}
	if g, ok := find(gs, fetchBenchmark); ok {
		x, _ := g.Get("x50ms")
		worst, _ := g.Get("worst-x50ms")
		fmt.Fprintf(&b, "| fetch flow latency ÷ 50 ms per vendor call | ≤ 5 | %.2f (worst %.2f) | %s |\n", x, worst, verdict(x <= 5))
	}
	if g, ok := find(gs, archiveBenchmark); ok {
		peak, _ := g.Get("archive-peak-heap-MiB")
		mb := peak * (1 << 20) / 1e6
		fmt.Fprintf(&b, "| archive of a 50 MB PDF: peak heap growth | ≤ 8 MB | %.2f MB (%.2f MiB) | %s |\n", mb, peak, verdict(mb <= 8))
	}
	b.WriteString("\n")
	if gs != nil {
		b.WriteString(serviceBenchTable(gs))
	}
	return b.String()
}

// serviceBenchTable renders the fetch-flow and archive benchmarks' custom
// metrics as a readable table.
func serviceBenchTable(gs []GoBenchmark) string {
	var b strings.Builder
	if g, ok := find(gs, fetchBenchmark); ok {
		b.WriteString("### Fetch flow with 50 ms per vendor call (`services/contract-sync/service`)\n\n")
		b.WriteString("Signed webhook from the Oneflow sandbox → contract-sync → employee-directory → Flex HRM sandbox → writes to Oneflow, both sandboxes adding 50 ms to every call; latency from the webhook to the last write.\n\n")
		b.WriteString("| runs | latency ÷ 50 ms | worst ÷ 50 ms | Oneflow calls | Flex HRM calls | writes | echo reads after the last write |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		get := func(u string) string {
			v, ok := g.Get(u)
			if !ok {
				return "–"
			}
			return formatValue(v)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n\n", g.Iterations, get("x50ms"), get("worst-x50ms"),
			get("oneflow-calls/op"), get("flexhrm-calls/op"), get("writes/op"), get("echo-reads/op"))
	}
	var archives []GoBenchmark
	for _, name := range []string{archiveBenchmark, archiveReal} {
		if g, ok := find(gs, name); ok {
			archives = append(archives, g)
		}
	}
	if len(archives) > 0 {
		b.WriteString("### Archive of a large PDF (`services/document-archive/service`)\n\n")
		b.WriteString("Production archiver streaming Oneflow's PDF into Flex HRM's multipart upload, against a plain `io.Copy` of the same bytes; peak heap growth sampled during the call.\n\n")
		b.WriteString("| case | archive MB/s | io.Copy MB/s | throughput ratio | archive peak heap | io.Copy peak heap |\n|---|---:|---:|---:|---:|---:|\n")
		for _, g := range archives {
			get := func(u string) float64 { v, _ := g.Get(u); return v }
			fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2f | %.2f MiB | %.2f MiB |\n", strings.TrimPrefix(g.Name, "BenchmarkArchive/"),
				get("archive-MB/s"), get("iocopy-MB/s"), get("throughput-ratio"), get("archive-peak-heap-MiB"), get("iocopy-peak-heap-MiB"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// BurstMarkdown is the month-end burst's section.
func BurstMarkdown(r BurstResult) string {
	var b strings.Builder
	o := r.Options
	b.WriteString("## Month-end burst against Flex HRM's rate limit\n\n")
	fmt.Fprintf(&b, "%d contracts created, fetched, published and their Pending PDFs archived without a limit (%s); then the Flex HRM sandbox limited to %.0f requests/s (token bucket of %d, 429 with Retry-After %d s) and every contract signed at once. "+
		"The whole system runs in this process with production defaults (employee-directory and document-archive each with their own Flex HRM client, both paced by libs/flexhrm's adaptive pacing); a recording proxy in front of the sandbox tells the two processes apart. "+
		"Time runs from the first sign to the last Signed document or employment period written; calls needed are the requests the sandbox answered 2xx during the burst.\n\n",
		o.Contracts, r.Prepare.Round(time.Second), o.RequestsPerSecond, o.Burst, o.RetryAfterSeconds)
	b.WriteString("| time | calls needed | ideal (calls ÷ rate) | ratio | 429s | other errors | requests refused twice in a row |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %s | %d | %s | **%.3f** | %d | %d | %d |\n\n", r.Elapsed.Round(100*time.Millisecond), r.CallsNeeded, r.Ideal.Round(100*time.Millisecond), r.Ratio, r.Refused, r.Other, r.RefusedTwice)
	fmt.Fprintf(&b, "Goal: ratio ≤ 1.15. Measured **%.3f** (%.1f calls per contract, %.2f requests/s achieved of %.0f).\n\n",
		r.Ratio, float64(r.CallsNeeded)/float64(max(1, o.Contracts)), float64(r.CallsNeeded)/max(r.Elapsed.Seconds(), 1e-9), o.RequestsPerSecond)
	b.WriteString("| check | expected | found |\n|---|---:|---:|\n")
	fmt.Fprintf(&b, "| contracts whose sign flow completed in sync | %d | %d |\n", o.Contracts, r.SignSynced)
	fmt.Fprintf(&b, "| employees with exactly one Signed document | %d | %d |\n", o.Contracts, r.SignedOnce)
	fmt.Fprintf(&b, "| employees with more than one Signed document | 0 | %d |\n", r.SignedTwice)
	fmt.Fprintf(&b, "| employees with exactly one employment period | %d | %d |\n", o.Contracts, r.PeriodsOnce)
	fmt.Fprintf(&b, "| contracts listed as failed | 0 | %d |\n", r.Failures)
	fmt.Fprintf(&b, "| logical requests refused twice in a row for lack of backoff | 0 | %d |\n", r.RefusedTwiceEarly)
	fmt.Fprintf(&b, "| logical requests refused twice in a row, whatever the wait | reported | %d |\n\n", r.RefusedTwice)
	if len(r.RefusedTwiceExamples) > 0 {
		fmt.Fprintf(&b, "Refused twice: %s.\n\n", strings.Join(r.RefusedTwiceExamples, "; "))
	}
	b.WriteString("Refused twice in a row: a read whose retry inside the client (its `Flexflow-Attempt` header ≥ 2) was answered 429 again, or a write (same method, path, query and JSON body from the same process) refused again when its caller retried it. Each example gives how long the request had waited after its previous refusal: at least the Retry-After means it was not refused for lack of backoff but because the other process had used the capacity.\n\n")
	b.WriteString("| process | answered 2xx | share | 429s | other |\n|---|---:|---:|---:|---:|\n")
	total := 0
	for _, p := range r.Processes {
		total += p.Answered
	}
	for _, p := range r.Processes {
		fmt.Fprintf(&b, "| %s | %d | %.0f %% | %d | %d |\n", p.Name, p.Answered, 100*float64(p.Answered)/float64(max(total, 1)), p.Refused, p.Other)
	}
	if len(r.Timeline) > 0 {
		b.WriteString("\n<details><summary>Timeline: requests answered 2xx (429s) per second, by process</summary>\n\n| from | employee-directory | document-archive | total |\n|---:|---:|---:|---:|\n")
		width := 10.0
		if len(r.Timeline) > 1 {
			width = (r.Timeline[1].From - r.Timeline[0].From).Seconds()
		}
		for _, t := range r.Timeline {
			fmt.Fprintf(&b, "| %s | %.1f (%d) | %.1f (%d) | %.1f |\n", t.From, float64(t.Directory)/width, t.DirectoryRefused,
				float64(t.Archive)/width, t.ArchiveRefused, float64(t.Directory+t.Archive)/width)
		}
		b.WriteString("\n</details>\n")
	}
	b.WriteString("\n| calls needed by path | count | per contract |\n|---|---:|---:|\n")
	keys := make([]string, 0, len(r.PerPath))
	for k := range r.PerPath {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %d | %.2f |\n", k, r.PerPath[k], float64(r.PerPath[k])/float64(max(1, o.Contracts)))
	}
	b.WriteString("\n")
	return b.String()
}
