// Package aggregate is lambdabridge's in-memory metric state between the
// parsers and the sinks: it folds metric.Points into Prometheus series
// (counters summed, gauges last-write-wins, histograms with classic and
// native buckets, summaries, sets as distinct counts) and hands them out as a
// prometheus.Gatherer, sorted and stable, for the scrape, remote_write and
// Pushgateway sinks.
//
//	agg := aggregate.New(aggregate.WithConstLabels(metric.Label{Name: "function_name", Value: "checkout"}))
//	for i := range batch.Points { agg.Add(&batch.Points[i]) }
//	families, err := agg.Gather() // or promhttp.HandlerFor(agg, promhttp.HandlerOpts{})
//
// # Contract
//
// Add and Gather are safe for concurrent use. Add never keeps the point or
// anything it points to (points come from reusable batches). Every value
// handed to Add is either aggregated or counted as dropped with a reason
// (see the Reason constants, Stats and SelfCollector); nothing is lost
// silently and nothing makes the exposition invalid: a family name reached
// with two types, with two label-name sets, or whose exposed sample names
// collide with another family's (histogram foo vs counter foo_count), keeps
// the family that came first and drops the later points.
//
// Gather returns families sorted by name, series sorted by labels, labels
// sorted by name, and no sample timestamps, so golden files and remote_write
// batches are stable. A family that has no live series is omitted.
//
// # Semantics
//
//   - Counters add value*weight, where weight is 1/SampleRate (a count of 1
//     at @0.1 adds 10). Negative increments are dropped (negative_counter):
//     a counter never goes down.
//   - Gauges keep the last value in arrival order. When points carry a
//     producer timestamp (TimeMs), a point older than the one already applied
//     is dropped (counted with reason superseded), so the newest timestamp wins.
//   - Histograms (histogram, distribution and timer points) observe every
//     value with its weight rounded to a whole number (at least 1). Each
//     series carries classic buckets and native (sparse, exponential)
//     buckets in the same dto.Histogram: protobuf scrapes get both, the text
//     format the classic ones. See DefaultBuckets and Family.
//   - Summaries (only when a Mapper asks for TypeSummary) use client_golang's
//     summary: quantiles over a sliding window of Family.MaxAge (default 10m).
//   - Sets become a gauge of the number of distinct members seen since the
//     series was created. The window is the life of the series: with no TTL
//     it is "since start"; with a TTL an idle set series expires and starts
//     over. Members are kept as 64-bit hashes, at most WithMaxSetMembers per
//     series; members beyond that are dropped (set_limit).
//   - Service checks are a gauge of the last status; events a counter.
//
// # Labels and limits
//
// Labels come, first wins, from WithConstLabels, then the environment
// (WithPerEnvironment) and function (WithFunctionLabel) labels, then the
// Mapper (the default one: the point's dimensions or tags as
// metric.PromLabels translates them). Labels with an empty value are
// omitted; a tag named le on a histogram (quantile on a summary) becomes
// exported_le; invalid names are sanitized and invalid UTF-8 replaced.
// A family keeps the label-name set of its first series unless
// WithMixedLabelSets. Guards, all on by default: WithMaxSeries (250,000),
// WithMaxSeriesPerFamily (10,000) (cardinality_limit; Stats names the label
// with the most distinct values), WithMaxLabels (label_limit),
// WithMaxSetMembers (set_limit).
//
// # Cost
//
// Adding to an existing counter or gauge series allocates nothing; names and
// label names are translated once and cached. A counter or gauge series
// takes about 190 bytes of heap, a histogram series about 560 (measured at
// 100k series, see TestMemoryPerSeries).
//
// # Series lifetime and stale markers
//
// A family's TTL (Family.TTL, else WithTTL) removes series that received no
// point for that long. Expiry runs at the start of every Gather and on
// Expire. Gather only shows live series; every series that ends is handed,
// with its last state, to the functions given with WithOnExpire, after the
// aggregator's locks are released, so remote_write can send stale markers
// for exactly the samples that series produced. A series that comes back
// after expiring starts from zero, as a new series does. EndEnvironment ends
// the series of one recycled execution environment (WithPerEnvironment) the
// same way; nothing ends series when a run ends, so they stay queryable.
//
// Counters, histograms and summaries carry a created timestamp (the time
// their series received its first point): the protobuf exposition hands it
// to Prometheus (created-timestamp zero ingestion) and remote_write sends a
// zero sample there, so increase() over a run sees every count. A point with
// the value 0 creates a counter at zero (a function known before its first
// invocation).
package aggregate
