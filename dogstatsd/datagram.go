package dogstatsd

import (
	"bytes"
	"fmt"

	"github.com/lambdabridge/lambdabridge/metric"
)

const fDSD = metric.FormatDogStatsD

// Datagram parses one DogStatsD payload: one or more lines separated by '\n'
// (empty lines are skipped, as the agent does). Each line is a metric
// (name:value[:value...]|type[|@rate][|#tags][|c:container][|Tts]), an event
// (_e{...}) or a service check (_sc|...). A broken line gets its diagnostics
// and never stops the lines after it. See the package documentation for the
// line numbers given to each line's points and diagnostics.
func (p *Parser) Datagram(b *metric.Batch, payload []byte, o metric.Origin) {
	base, idx := o.Line, 0
	for len(payload) > 0 {
		var line []byte
		if i := bytes.IndexByte(payload, '\n'); i >= 0 {
			line, payload = payload[:i], payload[i+1:]
		} else {
			line, payload = payload, nil
		}
		if base > 0 {
			o.Line = base + idx
		} else {
			o.Line = idx + 1
		}
		idx++
		// The agent ends a message at '\n' and drops a '\r' before it
		// (server_worker_test.go TestNextMessage).
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		p.line(b, line, &o)
	}
}

// line parses one datagram line.
func (p *Parser) line(b *metric.Batch, line []byte, o *metric.Origin) {
	if len(line) > 3 && line[0] == '_' {
		if line[1] == 'e' && line[2] == '{' {
			p.event(b, line, o)
			return
		}
		if line[1] == 's' && line[2] == 'c' && (line[3] == '|') {
			p.serviceCheck(b, line, o)
			return
		}
	}
	p.metricLine(b, line, o)
}

func kindOf(t []byte) (metric.Kind, bool) {
	switch len(t) {
	case 1:
		switch t[0] {
		case 'c':
			return metric.Counter, true
		case 'g':
			return metric.Gauge, true
		case 'h':
			return metric.Histogram, true
		case 'd':
			return metric.Distribution, true
		case 's':
			return metric.Set, true
		}
	case 2:
		if t[0] == 'm' && t[1] == 's' {
			return metric.Timer, true
		}
	}
	return metric.KindUnknown, false
}

// metricLine parses name:value[:value...]|type[|field...].
func (p *Parser) metricLine(b *metric.Batch, line []byte, o *metric.Origin) {
	bar := bytes.IndexByte(line, '|')
	if bar < 0 {
		hint := ""
		if bytes.IndexByte(line, ':') >= 0 {
			hint = "a metric needs a type: name:value|c (or g, h, d, ms, s)"
		}
		diag(b, o, fDSD, fail, RuleDSDBadLine, dropsMetric, "line "+quote(line)+" has no '|': not a metric, event or service check", hint)
		return
	}
	nv, rest := line[:bar], line[bar+1:]
	colon := bytes.IndexByte(nv, ':')
	if colon < 0 {
		diag(b, o, fDSD, fail, RuleDSDMissingValue, dropsMetric, "metric "+quote(nv)+" has no ':value'", "write name:value|type")
		return
	}
	name, raw := nv[:colon], nv[colon+1:]
	if len(name) == 0 {
		diag(b, o, fDSD, fail, RuleDSDEmptyName, dropsMetric, "metric line "+quote(line)+" has an empty name", "")
		return
	}
	if len(raw) == 0 {
		diag(b, o, fDSD, fail, RuleDSDMissingValue, dropsMetric, "metric "+quote(name)+" has an empty value", "")
		return
	}
	var typ []byte
	if i := bytes.IndexByte(rest, '|'); i >= 0 {
		typ, rest = rest[:i], rest[i+1:]
	} else {
		typ, rest = rest, nil
	}
	kind, ok := kindOf(typ)
	if !ok {
		diag(b, o, fDSD, fail, RuleDSDUnknownType, dropsMetric, "metric "+quote(name)+" has unknown type "+quote(typ), "the types are c, g, h, d, ms and s")
		return
	}

	p.values = p.values[:0]
	var negative []byte // the first count value below zero
	if kind != metric.Set {
		for v := raw; len(v) > 0; {
			var one []byte
			if i := bytes.IndexByte(v, ':'); i >= 0 {
				one, v = v[:i], v[i+1:]
			} else {
				one, v = v, nil
			}
			if len(one) == 0 { // the agent skips empty values: 1::2
				continue
			}
			f, ok := parseFloat(one)
			if !ok {
				diag(b, o, fDSD, fail, RuleDSDBadValue, dropsMetric, "metric "+quote(name)+" has value "+quote(one)+", not a number", "")
				return
			}
			if !finite(f) {
				diag(b, o, fDSD, fail, RuleDSDNonFinite, dropsMetric, "metric "+quote(name)+" has value "+quote(one)+", not finite", "")
				return
			}
			if kind == metric.Counter && f < 0 && negative == nil {
				negative = one
			}
			p.values = append(p.values, f)
		}
		if len(p.values) == 0 {
			diag(b, o, fDSD, fail, RuleDSDMissingValue, dropsMetric, "metric "+quote(name)+" has no value in "+quote(raw), "")
			return
		}
	}

	p.labels = p.labels[:0]
	rate := 0.0
	var ts int64
	var tsField []byte
	for rest != nil {
		var f []byte
		f, rest = nextField(rest)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case '#':
			p.labels = p.labels[:0] // the last tag field wins, as in the agent
			p.tags(f[1:])
			continue
		case '@':
			r, ok := parseFloat(f[1:])
			if !ok || !(r > 0 && r <= 1) {
				diag(b, o, fDSD, fail, RuleDSDBadSampleRate, dropsMetric, "metric "+quote(name)+" has sample rate "+quote(f), "a sample rate is a number in (0,1], like @0.5")
				return
			}
			rate = r
			continue
		case 'T':
			t, ok := parseInt(f[1:])
			if !ok || t <= 0 {
				diag(b, o, fDSD, fail, RuleDSDBadTimestamp, dropsMetric, "metric "+quote(name)+" has timestamp "+quote(f), "|T takes Unix seconds, like |T1700000000")
				return
			}
			ts, tsField = t, f
			continue
		case 'c':
			if len(f) >= 2 && f[1] == ':' {
				if len(f) == 2 {
					diag(b, o, fDSD, warn, RuleDSDBadContainer, none, "metric "+quote(name)+" has an empty container id field \"c:\"", "")
				}
				continue
			}
		case 'e':
			if len(f) >= 2 && f[1] == ':' { // external data (origin detection)
				continue
			}
		}
		if len(f) >= 5 && string(f[:5]) == "card:" { // cardinality (origin detection)
			continue
		}
		p.unknownField(b, o, "metric "+quote(name), f)
	}
	if tsField != nil && kind != metric.Gauge && kind != metric.Counter {
		diag(b, o, fDSD, fail, RuleDSDTimestampType, dropsMetric, "metric "+quote(name)+" of type "+quote(typ)+" has timestamp "+quote(tsField),
			"the Datadog agent accepts |T only on gauges (g) and counts (c) and discards other timestamped samples")
		return
	}

	p.checkName(b, name, fDSD, RuleDSDNameChars, o)
	if negative != nil {
		negativeCount(b, o, fDSD, RuleDSDNegativeCount, name, negative)
	}
	pt := metric.Point{
		Format:     fDSD,
		Name:       p.str(name),
		Kind:       kind,
		SampleRate: rate,
		Origin:     *o,
	}
	if ts > 0 {
		pt.TimeMs = ts * 1000
	}
	if kind == metric.Set {
		if bytes.IndexByte(raw, ':') >= 0 {
			diag(b, o, fDSD, warn, RuleDSDSetMultiValue, none, "set "+quote(name)+" has value "+quote(raw)+" with ':'; Datadog counts it as one member, it does not split set values", "send one datagram per member")
		}
		m := p.str(raw)
		pt.Members = b.Members(unsafeMember(&m))
	} else {
		pt.Values = b.Values(p.values)
	}
	if kind == metric.Timer {
		pt.Unit = "Milliseconds"
	}
	if len(p.labels) > 0 {
		pt.Labels = b.Labels(p.labels)
	}
	b.AddPoint(pt)
}

// unknownField reports an extension field the agent ignores.
func (p *Parser) unknownField(b *metric.Batch, o *metric.Origin, what string, f []byte) {
	hint := ""
	if bytes.IndexByte(f, ':') > 0 {
		hint = "tags need a leading '#': |#" + string(f)
	}
	diag(b, o, fDSD, warn, RuleDSDUnknownField, none, what+" has unknown field "+quote(f)+"; Datadog ignores it", hint)
}

// event parses _e{title_len,text_len}:title|text|d:ts|h:host|k:key|p:prio|s:src|t:alert|#tags.
func (p *Parser) event(b *metric.Batch, line []byte, o *metric.Origin) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		diag(b, o, fDSD, fail, RuleDSDBadEventHeader, dropsMetric, "event "+quote(line)+" has no ':' after its header", "events look like _e{5,4}:title|text")
		return
	}
	header, body := line[:colon], line[colon+1:]
	var titleLen, textLen int64
	okHeader := len(header) >= 7 && header[len(header)-1] == '}'
	if okHeader {
		lens := header[3 : len(header)-1]
		comma := bytes.IndexByte(lens, ',')
		okHeader = comma > 0
		if okHeader {
			var ok1, ok2 bool
			titleLen, ok1 = parseInt(lens[:comma])
			textLen, ok2 = parseInt(lens[comma+1:])
			okHeader = ok1 && ok2 && titleLen >= 0 && textLen >= 0
		}
	}
	if !okHeader {
		diag(b, o, fDSD, fail, RuleDSDBadEventHeader, dropsMetric, "event header "+quote(header)+" is not _e{title_length,text_length}", "")
		return
	}
	if titleLen == 0 {
		diag(b, o, fDSD, fail, RuleDSDBadEventHeader, dropsMetric, "event header "+quote(header)+" declares an empty title", "Datadog requires a title")
		return
	}
	if titleLen > int64(len(body)) || textLen > int64(len(body)) || titleLen+1+textLen > int64(len(body)) {
		diag(b, o, fDSD, fail, RuleDSDEventLength, dropsMetric,
			fmt.Sprintf("event header %s declares %d bytes of title and text but %d follow", quote(header), titleLen+1+textLen, len(body)),
			"the lengths count bytes of the UTF-8 text, with newlines written as \\n counted as two")
		return
	}
	title := body[:titleLen]
	if body[titleLen] != '|' {
		diag(b, o, fDSD, warn, RuleDSDEventCut, none,
			fmt.Sprintf("event title length %d ends inside %s; Datadog cuts the title there", titleLen, quote(body)),
			"the lengths count bytes of the UTF-8 text, not characters")
	}
	end := titleLen + 1 + textLen
	rest := body[end:]
	if len(rest) > 0 && rest[0] != '|' {
		diag(b, o, fDSD, warn, RuleDSDEventCut, none,
			fmt.Sprintf("event text length %d ends before %s; Datadog cuts the text there", textLen, quote(rest)),
			"the lengths count bytes of the UTF-8 text, not characters")
	}
	if len(rest) > 0 && rest[0] == '|' {
		rest = rest[1:]
	}

	p.labels = p.labels[:0]
	var ts int64
	var alert, prio, src, host, key []byte
	for rest != nil {
		var f []byte
		f, rest = nextField(rest)
		if len(f) == 0 {
			continue
		}
		if f[0] == '#' {
			p.labels = p.labels[:0]
			p.parseTags(f[1:])
			continue
		}
		if len(f) >= 2 && f[1] == ':' {
			v := f[2:]
			switch f[0] {
			case 'd':
				t, ok := parseInt(v)
				if !ok {
					diag(b, o, fDSD, warn, RuleDSDBadEventField, none, "event "+quote(title)+" has timestamp "+quote(f)+", not an integer; Datadog ignores it", "")
					continue
				}
				ts = t
				continue
			case 'h':
				host = v
				continue
			case 'k':
				key = v
				continue
			case 'p':
				if string(v) != "normal" && string(v) != "low" {
					diag(b, o, fDSD, warn, RuleDSDBadEventField, none, "event "+quote(title)+" has priority "+quote(f)+"; Datadog ignores it", "priority is normal or low")
					continue
				}
				prio = v
				continue
			case 's':
				src = v
				continue
			case 't':
				switch string(v) {
				case "error", "warning", "info", "success":
					alert = v
				default:
					diag(b, o, fDSD, warn, RuleDSDBadEventField, none, "event "+quote(title)+" has alert type "+quote(f)+"; Datadog ignores it", "alert type is error, warning, info or success")
				}
				continue
			case 'c', 'e':
				continue
			}
		}
		if len(f) >= 5 && string(f[:5]) == "card:" {
			continue
		}
		p.unknownField(b, o, "event "+quote(title), f)
	}
	for _, l := range [...]struct {
		name string
		v    []byte
	}{{"alert_type", alert}, {"priority", prio}, {"source_type_name", src}, {"host", host}, {"aggregation_key", key}} {
		if l.v != nil {
			p.labels = append(p.labels, metric.Label{Name: l.name, Value: p.str(l.v)})
		}
	}
	name := p.str(title)
	if bytes.Contains(title, []byte(`\n`)) {
		name = string(bytes.ReplaceAll(title, []byte(`\n`), []byte("\n")))
	}
	p.values = append(p.values[:0], 1)
	pt := metric.Point{Format: fDSD, Name: name, Kind: metric.Event, Values: b.Values(p.values), Origin: *o}
	if ts > 0 {
		pt.TimeMs = ts * 1000
	}
	if len(p.labels) > 0 {
		pt.Labels = b.Labels(p.labels)
	}
	b.AddPoint(pt)
}

// serviceCheck parses _sc|name|status|d:ts|h:host|#tags|m:message.
func (p *Parser) serviceCheck(b *metric.Batch, line []byte, o *metric.Origin) {
	rest := line[4:]
	bar := bytes.IndexByte(rest, '|')
	if bar < 0 {
		diag(b, o, fDSD, fail, RuleDSDBadCheck, dropsMetric, "service check "+quote(line)+" has no status field", "service checks look like _sc|name|0")
		return
	}
	name, rest := rest[:bar], rest[bar+1:]
	if len(name) == 0 {
		diag(b, o, fDSD, fail, RuleDSDEmptyName, dropsMetric, "service check "+quote(line)+" has an empty name", "")
		return
	}
	var status []byte
	if i := bytes.IndexByte(rest, '|'); i >= 0 {
		status, rest = rest[:i], rest[i+1:]
	} else {
		status, rest = rest, nil
	}
	if len(status) != 1 || status[0] < '0' || status[0] > '3' {
		diag(b, o, fDSD, fail, RuleDSDBadCheckStatus, dropsMetric, "service check "+quote(name)+" has status "+quote(status), "status is 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN)")
		return
	}
	p.labels = p.labels[:0]
	var ts int64
	var host []byte
	for rest != nil {
		var f []byte
		f, rest = nextField(rest)
		if len(f) == 0 {
			continue
		}
		if f[0] == '#' {
			p.labels = p.labels[:0]
			p.parseTags(f[1:])
			continue
		}
		if len(f) >= 2 && f[1] == ':' {
			switch f[0] {
			case 'd':
				t, ok := parseInt(f[2:])
				if !ok {
					diag(b, o, fDSD, warn, RuleDSDBadCheckField, none, "service check "+quote(name)+" has timestamp "+quote(f)+", not an integer; Datadog ignores it", "")
					continue
				}
				ts = t
				continue
			case 'h':
				host = f[2:]
				continue
			case 'm', 'c', 'e':
				continue
			}
		}
		if len(f) >= 5 && string(f[:5]) == "card:" {
			continue
		}
		p.unknownField(b, o, "service check "+quote(name), f)
	}
	if host != nil {
		p.labels = append(p.labels, metric.Label{Name: "host", Value: p.str(host)})
	}
	p.values = append(p.values[:0], float64(status[0]-'0'))
	pt := metric.Point{Format: fDSD, Name: p.str(name), Kind: metric.ServiceCheck, Values: b.Values(p.values), Origin: *o}
	if ts > 0 {
		pt.TimeMs = ts * 1000
	}
	if len(p.labels) > 0 {
		pt.Labels = b.Labels(p.labels)
	}
	b.AddPoint(pt)
}

// nextField splits the first '|'-separated field off rest; tail is nil
// when it was the last one.
func nextField(rest []byte) (f, tail []byte) {
	if i := bytes.IndexByte(rest, '|'); i >= 0 {
		return rest[:i], rest[i+1:]
	}
	return rest, nil
}
