// Package mapping applies mapping rules to points before aggregation:
// rename, relabel, change type, set buckets or summary quantiles, set a TTL,
// or drop. It reads prometheus/statsd_exporter's mapping YAML unchanged
// (defaults:, mappings: with match, match_type glob|regex, name and labels
// with $1 / ${1} substitutions, action map|drop, match_metric_type,
// observer_type, histogram_options, summary_options, ttl, help, scale,
// honor_labels, and the deprecated timer_type, buckets and quantiles), plus
// lambdabridge's additions: emf_namespace and emf_metric to match EMF
// points, type (counter, gauge, histogram, summary) and buckets. A Mapper
// implements aggregate.Mapper.
//
//	m, err := mapping.Load("mapping.yaml")
//	if err != nil { return err }
//	agg := aggregate.New(aggregate.WithMapper(m))
//
// # Matching
//
// Datadog and DogStatsD points are matched by their name as written
// (dotted): glob rules first, then regex rules, each in file order, the
// first match wins (statsd_exporter's order). In a glob, * matches any run of
// characters within one dot-separated component. EMF points are matched only
// by rules with emf_namespace and/or emf_metric (glob: * matches anything,
// "/" included; regex: each part is a regular expression), captures numbered
// across namespace then metric. Service checks and events are never matched.
// A point no rule matches is translated as metric.Translate says, with the
// defaults (observer_type, histogram and summary options, ttl) applied.
//
// # Differences from statsd_exporter
//
//   - name may be omitted: the translated name is kept (useful to set only a
//     type, buckets or a ttl).
//   - Without buckets, histograms get aggregate.DefaultBuckets for their
//     unit, not client_golang's DefBuckets; native buckets are always on
//     (factor 1.1 unless native_histogram_bucket_factor says otherwise).
//   - glob_disable_ordering: true is refused (false is accepted): rules
//     always apply in file order, the first match wins, where
//     statsd_exporter with that key picks the most specific glob.
//   - Timers, histograms and distributions without observer_type (in the
//     rule or in defaults) become histograms; statsd_exporter makes them
//     summaries. Set observer_type: summary (in defaults: for every rule)
//     to keep a ported config's quantile series.
//   - References are read as statsd_exporter reads them: "$" and the
//     longest run of letters, digits and "_", or "${...}"; $0 is the whole
//     name. So "$1_total" names a capture "1_total": statsd_exporter
//     silently expands it to "", lambdabridge refuses the config and says
//     to write "${1}_total". A regex rule may name its groups
//     ((?P<svc>...) and $svc).
//   - Durations need a unit ("90s"); a bare 0 is accepted.
package mapping
