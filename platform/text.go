package platform

import (
	"regexp"
	"strings"

	"github.com/lambdabridge/lambdabridge/metric"
)

// reportKeys finds the fields of a REPORT line. Lambda separates them with
// tabs; copies pasted from a console often have spaces instead, so the
// fields are found by their names, the longest name first where one ends
// another ("Billed Restore Duration", "Restore Duration", "Duration").
var reportKeys = regexp.MustCompile(`(RequestId|Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration|Status|Error Type|XRAY TraceId|SegmentId|Sampled): *`)

// parseReport reads a REPORT line into r. It returns what is wrong with the
// line, "" when it is complete. Verified field names and units against the
// AWS Lambda developer guide (REPORT examples on the "Using Lambda with
// CloudWatch Logs" page: tabs between fields, "Billed Duration: 47 ms "
// with a space before the tab; "REPORT line data fields" of the runtime
// logging pages: Init Duration, Restore Duration, Billed Restore Duration,
// XRAY TraceId, SegmentId, Sampled; the execution environment lifecycle
// page: Status: timeout|error and Error Type).
func parseReport(r *Report, line []byte) string {
	*r = Report{}
	s := string(line)
	idx := reportKeys.FindAllStringSubmatchIndex(s, -1)
	seen := 0
	const (
		hasDur = 1 << iota
		hasBilled
		hasMem
		hasMax
	)
	for i, m := range idx {
		end := len(s)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		v := s[m[1]:end]
		if t := strings.IndexByte(v, '\t'); t >= 0 {
			v = v[:t]
		}
		v = strings.TrimSpace(v)
		switch key := s[m[2]:m[3]]; key {
		case "RequestId":
			r.RequestID, _, _ = cut(v, ' ')
		case "Duration", "Billed Duration", "Init Duration", "Restore Duration", "Billed Restore Duration":
			d, ok := parseMs(v)
			if !ok {
				return key + " " + quote(v) + " is not a number of milliseconds"
			}
			switch key {
			case "Duration":
				r.Duration, seen = d, seen|hasDur
			case "Billed Duration":
				r.BilledDuration, seen = d, seen|hasBilled
			case "Init Duration":
				r.InitDuration = d
			case "Restore Duration":
				r.RestoreDuration = d
			default:
				r.BilledRestoreDuration = d
			}
		case "Memory Size", "Max Memory Used":
			mb := parseMB(v)
			if mb < 0 {
				return key + " " + quote(v) + " is not a number of MB"
			}
			if key == "Memory Size" {
				r.MemorySizeMB, seen = mb, seen|hasMem
			} else {
				r.MaxMemoryUsed, seen = int64(mb)<<20, seen|hasMax
			}
		case "Status":
			r.Status = v
		case "Error Type":
			r.ErrorType = v
		case "XRAY TraceId":
			r.TraceID = v
		case "SegmentId":
			r.SegmentID = v
		case "Sampled":
			r.Sampled = v
		}
	}
	switch {
	case r.RequestID == "":
		return "has no RequestId"
	case seen&hasDur == 0:
		return "has no Duration"
	case seen&hasBilled == 0:
		return "has no Billed Duration"
	case seen&hasMem == 0:
		return "has no Memory Size"
	case seen&hasMax == 0:
		return "has no Max Memory Used"
	}
	return ""
}

// report counts the invocation of one REPORT line.
func (p *Parser) report(b *metric.Batch, line []byte, c Context) {
	if msg := parseReport(&p.r, line); msg != "" {
		diag(b, c, RuleBadReport, "REPORT line "+msg+"; the invocation is not counted",
			"Lambda writes REPORT RequestId: <id>\\tDuration: <ms> ms\\tBilled Duration: <ms> ms\\tMemory Size: <MB> MB\\tMax Memory Used: <MB> MB")
		return
	}
	p.finish(b, c)
}
