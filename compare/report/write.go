package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("compare: write json: %w", err)
	}
	return nil
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func secs(x float64) string {
	if x < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", x)
}

func bytesHuman(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func num(x float64) string {
	if x == float64(int64(x)) {
		return fmt.Sprintf("%d", int64(x))
	}
	return fmt.Sprintf("%.4g", x)
}

// WriteTable writes the terminal table: one row per strategy, then the
// lost share per family and strategy.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d invocations (%d cold starts, %d failed, mean duration %.2f ms, billed %.2f ms) in %d environments (%d recycled) over %.0fs; bursts of %.0fs at concurrency %d, idle timeout %.1fs, scrape interval %.0fs\n\n",
		r.Function, r.Invocations, r.ColdStarts, r.Failed, r.MeanDurationMs, r.MeanBilledMs, r.Environments, r.EnvironmentsEnded, r.WorkloadSeconds,
		r.BurstSeconds, r.Concurrency, r.IdleTimeoutSeconds, r.ScrapeIntervalSecs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\temitted\tvisible\tlost\tover\tgauges ok\tstale series\tvisible p50\tvisible p99\t+billed ms/inv\trequests\tsent\tsamples\t$/month\t")
	for _, s := range r.Strategies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%s\t%s\t%.2f\t%d\t%s\t%d\t%.2f\t\n",
			s.Name, num(s.Emitted), num(s.Visible), pct(s.LostRatio), pct(s.OverCountedRatio), s.GaugesMatched, s.Gauges,
			s.StaleSeries, secs(s.P50VisibilitySeconds), secs(s.P99VisibilitySeconds), s.AddedBilledMsPerInvocation,
			s.Requests, bytesHuman(s.BytesSent), s.SamplesIngested, s.MonthlyCostUSD)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Strategies) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nlost share by family (gauges: - when the last value matches)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := []string{"family", "type", "emitted"}
	for _, s := range r.Strategies {
		hdr = append(hdr, s.Name)
	}
	fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
	for i, f := range r.Strategies[0].Families {
		row := []string{f.Name, f.Type}
		if f.EmittedLast != nil {
			row = append(row, "last "+num(*f.EmittedLast))
		} else {
			row = append(row, num(f.EmittedCount))
		}
		for _, s := range r.Strategies {
			g := s.Families[i]
			switch {
			case g.Type == "gauge" && g.LostRatio == 0:
				row = append(row, "-")
			case g.Type == "gauge":
				row = append(row, "wrong")
			case g.OverCountedRatio > 0:
				row = append(row, "+"+pct(g.OverCountedRatio))
			default:
				row = append(row, pct(g.LostRatio))
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n$/month at %d invocations: Lambda GB-seconds added inside invocations ($%g/GB-s) + samples ingested at $%g per million (%s), prices of %s;"+
		" scraped strategies (scrape, aggregate, pushgateway*) are ingested once per scrape interval whatever the invocations, remote-write once per invocation,"+
		" extension once per flush (periodic: per interval of the run; invocation: per invocation); +billed ms/inv of extension is the invoke phase after the runtime's answer (the extension's work before its call to next with invocation; with periodic it takes no INVOKE, and this is the runtime's own call to next)\n",
		r.MonthlyInvocations, r.Prices.LambdaUSDPerGBSecond, r.Prices.IngestionUSDPerMillion, r.Prices.IngestionPriceReference, r.Prices.Date)
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}
