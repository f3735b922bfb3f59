// Package dogstatsd parses the metric formats of Datadog that a Lambda
// function emits: MONITORING log lines, the flush-to-log JSON metric lines of
// the datadog-lambda libraries, and DogStatsD datagrams (metrics, events and
// service checks). It validates them on the way and reports every problem as a
// metric.Diagnostic with a stable rule id (see Rules) that says what Datadog
// does about it.
//
//	p := dogstatsd.NewParser()
//	var b metric.Batch
//	p.Datagram(&b, payload, metric.Origin{Source: "udp://127.0.0.1:8125"})
//
// The parser is pure (bytes in, points and diagnostics appended to a
// metric.Batch; no I/O, no logging) and allocation free in the steady state:
// names and tags are interned in a bounded table, label, value and member
// slices live in the batch's arena. A Parser is not safe for concurrent use;
// give each goroutine its own.
//
// # What becomes of what
//
// DogStatsD types map to kinds: c Counter, g Gauge, h Histogram,
// d Distribution, ms Timer (Unit "Milliseconds"), s Set (the member in
// Point.Members). MONITORING count, gauge, histogram and check map to Counter,
// Gauge, Histogram and ServiceCheck; a JSON metric line is a Distribution.
// Tags become labels in written order: "tag:value" is {tag, value} (split at
// the first ':'), "tag" is {tag, ""}; empty tags are skipped. When a datagram
// carries two tag fields the last one wins, as in the Datadog agent. As the
// agent does, the origin-detection tags dd.internal.entity_id:* and
// dd.internal.card:* are removed, and "host:" with no value (an empty host)
// gives no label.
//
// A DogStatsD event "_e{title_len,text_len}:title|text|..." becomes a point of
// Kind Event named after its title with the value 1, its tags as labels and,
// when given, the labels "alert_type" (t:), "priority" (p:),
// "source_type_name" (s:), "host" (h:) and "aggregation_key" (k:), in that
// order after the tags; d: becomes TimeMs. The event text is checked but not
// kept. A service check "_sc|name|status|..." becomes a point of Kind
// ServiceCheck named after the check with Values [status], its tags and "host"
// (h:) as labels, d: as TimeMs; the m: message is not kept.
//
// Timestamps (MONITORING epoch, |T, "e", d:) are seconds on the wire and
// milliseconds in Point.TimeMs.
//
// # Where lambdabridge follows the Datadog agent
//
// A line ending in "\r\n" is read without its '\r', as the agent's
// nextMessage does. Values are read with strconv.ParseFloat like the agent does (so "0x1p-2"
// is a number); empty values of a multi-value line ("1::2") are skipped; a
// set value is never split ("a:b" is one member, with a warning, because the
// producer probably meant two). |T is honoured only on gauges and counts: the
// agent's no-aggregation pipeline discards timestamped samples of other types,
// so they are errors here. Tags without the leading '#' in a datagram are an
// unknown field to the agent, which ignores it: lambdabridge warns and ignores
// them too (in a MONITORING line they are accepted with a warning). A broken
// optional field of an event or service check (d:, p:, t:) is ignored with a
// warning and the rest is kept. Event lengths count bytes; a length that does
// not end at a '|' is a warning and the title or text is cut where Datadog
// cuts it.
//
// # Line numbers in a datagram
//
// Datagram numbers the lines of a payload: a point or diagnostic of the line
// with 0-based index i in the payload gets Origin.Line = o.Line + i when
// o.Line > 0 (pass the line number of the payload's first line, for example
// when a file holds one datagram per line), and i + 1 when o.Line is 0 (the
// line number within the payload, for datagrams read from a socket).
package dogstatsd
