// Package remotewrite sends metrics to a Prometheus remote_write 1.0 or 2.0 receiver
// (Prometheus, VictoriaMetrics, Amazon Managed Prometheus with SigV4, ...). It
// reads a prometheus.Gatherer, as Prometheus in agent mode scrapes itself:
//
//	w, err := remotewrite.New(cfg) // cfg from ParseConfigs or URLConfig
//	go w.Run(ctx, registry)        // gather every interval, send in the background
//	stats, err := w.Close(ctx)     // last gather, drain within ctx
//
// Flush gathers and waits for delivery (the end of an invocation). The
// sender follows the 1.0 specification: a snappy block-compressed protobuf
// WriteRequest with the fixed headers; labels sorted, unique and non-empty with
// __name__; invalid series dropped and counted, never sent; per-series
// timestamps strictly increasing, also across retries; 5xx and network
// errors retried with jittered exponential backoff between min_backoff and
// max_backoff; 429 retried only with retry_on_http_429, after Retry-After;
// other 4xx dropped (a 400/409 answering a retry as http_4xx_after_retry:
// it may have been stored); stale markers for series that vanished while
// others go on, none at Close (the series of a finite run stay queryable
// after it); a new counter or classic histogram series with a created
// timestamp starts with a zero sample there, as Prometheus' created-timestamp
// zero ingestion does. With protobuf_message io.prometheus.write.v2.Request it
// sends Remote Write 2.0 (symbols, metadata, native histograms, start
// timestamps, the written headers checked) and falls back to 1.0 for good
// on a 415 or a 2xx without the written headers.
//
// The queue is made for an aggregating bridge: nothing blocks the caller and
// nothing is dropped for lack of room. Up to queue_config.capacity samples
// wait in order; beyond, a new sample of a series that already waits replaces
// it (coalesced), so memory is bounded by capacity plus the series count and
// the last value of every series is sent. Samples are sharded by series hash
// over min_shards..max_shards senders, resharded as Prometheus' queue manager
// does. Every sample is accounted for: emitted = sent + coalesced + dropped
// (by reason) + pending, see Stats and the metrics the Writer collects.
// Metadata (type, help, unit) goes every metadata_config.send_interval.
// Logs, labels and errors never hold secrets nor the URL's credentials or
// query.
//
// Rejected as not supported: write_relabel_configs, oauth2, azuread,
// google_iam, proxy_url (use HTTPS_PROXY), send_exemplars.
package remotewrite
