package dogstatsd

import (
	"bytes"
	"fmt"

	"github.com/lambdabridge/lambdabridge/metric"
)

const fMon = metric.FormatMonitoring

var monitoringMarker = []byte("MONITORING|")

// findMarker returns where marker starts in line: at the start (after white
// space) or right after a tab, which is how Lambda runtimes prefix log lines
// ("2024-05-01T10:00:00.000Z\t<request id>\tINFO\t..."). -1 when absent.
func findMarker(line, marker []byte) int {
	i := 0
	for i < len(line) && isSpace(line[i]) {
		i++
	}
	if bytes.HasPrefix(line[i:], marker) {
		return i
	}
	for {
		j := bytes.Index(line[i:], marker)
		if j < 0 {
			return -1
		}
		if line[i+j-1] == '\t' {
			return i + j
		}
		i += j + 1
	}
}

// Monitoring parses a Datadog MONITORING log line,
// MONITORING|<epoch seconds>|<value>|<count|gauge|histogram|check>|<name>|#<tags>,
// also after a Lambda log prefix. It returns false, with nothing appended, when
// the line is not a MONITORING line, and true when it is, with its point or its
// diagnostics appended to b.
func (p *Parser) Monitoring(b *metric.Batch, line []byte, o metric.Origin) bool {
	at := findMarker(line, monitoringMarker)
	if at < 0 {
		return false
	}
	s := trimSpace(line[at+len(monitoringMarker):])
	var fields [6][]byte
	n := 0
	for s != nil && n < len(fields) {
		if i := bytes.IndexByte(s, '|'); i >= 0 && n < len(fields)-1 {
			fields[n], s = s[:i], s[i+1:]
		} else {
			fields[n], s = s, nil
		}
		n++
	}
	if n < 4 {
		diag(b, &o, fMon, fail, RuleMonTooFewFields, dropsMetric,
			fmt.Sprintf("MONITORING line has %d fields, not timestamp, value, type and name", n),
			"write MONITORING|<epoch seconds>|<value>|<type>|<name>|#<tags>")
		return true
	}
	rawTs, rawV, typ, name := fields[0], fields[1], fields[2], fields[3]
	if len(name) == 0 {
		diag(b, &o, fMon, fail, RuleMonEmptyName, dropsMetric, "MONITORING line has an empty metric name", "")
		return true
	}

	var kind metric.Kind
	switch string(typ) {
	case "count":
		kind = metric.Counter
	case "gauge":
		kind = metric.Gauge
	case "histogram":
		kind = metric.Histogram
	case "check":
		kind = metric.ServiceCheck
	default:
		diag(b, &o, fMon, fail, RuleMonUnknownType, dropsMetric, mw(name)+" has unknown type "+quote(typ), "the types are count, gauge, histogram and check")
		return true
	}

	ts, ok := parseInt(rawTs)
	if !ok || ts <= 0 {
		hint := "write whole Unix seconds, like 1700000000"
		if len(rawTs) == 0 {
			hint = "the field after MONITORING| is the timestamp"
		}
		diag(b, &o, fMon, fail, RuleMonBadTimestamp, dropsMetric, mw(name)+" has timestamp "+quote(rawTs)+", not a positive integer", hint)
		return true
	}
	v, ok := parseFloat(rawV)
	if !ok {
		diag(b, &o, fMon, fail, RuleMonBadValue, dropsMetric, mw(name)+" has value "+quote(rawV)+", not a number", "")
		return true
	}
	if !finite(v) {
		diag(b, &o, fMon, fail, RuleMonNonFinite, dropsMetric, mw(name)+" has value "+quote(rawV)+", not finite", "")
		return true
	}
	if kind == metric.ServiceCheck && !(v == 0 || v == 1 || v == 2 || v == 3) {
		diag(b, &o, fMon, fail, RuleMonBadCheckStatus, dropsMetric, "check "+quote(name)+" has status "+quote(rawV), "status is 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN)")
		return true
	}
	if kind == metric.Counter && v < 0 {
		negativeCount(b, &o, fMon, RuleMonNegativeCount, name, rawV)
	}
	ms, unit := epochToMs(ts)
	if unit != "" {
		diag(b, &o, fMon, warn, RuleMonTimestampUnit, none, mw(name)+" has timestamp "+quote(rawTs)+" in "+unit+"; lambdabridge converts it",
			"MONITORING wants Unix seconds")
	}

	p.labels = p.labels[:0]
	if n > 4 && len(fields[4]) > 0 {
		tags := fields[4]
		if tags[0] == '#' {
			tags = tags[1:]
		} else {
			diag(b, &o, fMon, warn, RuleMonTagsWithoutHash, none, mw(name)+" has tags "+quote(tags)+" without the leading '#'; lambdabridge accepts them", "write |#tag:value,...")
		}
		p.parseTags(tags)
	}
	if n > 5 {
		diag(b, &o, fMon, warn, RuleMonExtraField, none, mw(name)+" has fields after the tags: "+quote(fields[5])+"; they are ignored", "")
	}
	if kind != metric.ServiceCheck {
		p.checkName(b, name, fMon, RuleMonNameChars, &o)
	}
	p.values = append(p.values[:0], v)
	pt := metric.Point{Format: fMon, Name: p.str(name), Kind: kind, Values: b.Values(p.values), TimeMs: ms, Origin: o}
	if len(p.labels) > 0 {
		pt.Labels = b.Labels(p.labels)
	}
	b.AddPoint(pt)
	return true
}
