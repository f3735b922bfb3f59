// Package remotewrite sends metrics to a Prometheus remote_write 1.0 receiver
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
// timestamps strictly increasing, also across retries (one sender per Writer,
// batches in queue order); 5xx and network errors retried with jittered
// exponential backoff between min_backoff and max_backoff; 429 retried only
// with retry_on_http_429, after Retry-After; other 4xx dropped; stale markers
// for series that vanished while others go on, none at Close (the series of a
// finite run stay queryable after it); a new counter or classic histogram
// series with a created timestamp starts with a zero sample there, as
// Prometheus' created-timestamp zero ingestion does.
//
// Nothing blocks the caller: the queue holds queue_config.capacity samples and
// drops beyond (reason "queue_full"). Every sample is accounted for:
// emitted = sent + dropped (by reason) + pending, see Stats and the metrics the
// Writer collects. Logs, labels and errors never hold secrets nor the URL's
// credentials or query.
//
// Accepted but without effect: queue_config min_shards/max_shards (one sender),
// sample_age_limit, send_exemplars, metadata_config, follow_redirects,
// enable_http2. Rejected as not supported: write_relabel_configs, oauth2,
// azuread, google_iam, proxy_url (use HTTPS_PROXY), remote_write 2.0.
package remotewrite
