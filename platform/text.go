package platform

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// reportKeys finds the fields of a REPORT line. Lambda separates them with
// tabs; copies pasted from a console often have spaces instead, so the
// fields are found by their names, the longest name first where one ends
// another ("Billed Restore Duration", "Restore Duration", "Duration"). It
// is compiled at first use, as are the other patterns of the packages the
// extension links: its cold starts do not pay for them.
var reportKeys = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(RequestId|Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration|Status|Error Type|XRAY TraceId|SegmentId|Sampled): *`)
})

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
	idx := reportKeys().FindAllStringSubmatchIndex(s, -1)
	var seen [len(requiredFields)]bool
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
		key := s[m[2]:m[3]]
		if want := reportFields[key](r, v); want != "" {
			return key + " " + quote(v) + " is not " + want
		}
		if j := slices.Index(requiredFields[:], key); j >= 0 {
			seen[j] = true
		}
	}
	for j, k := range requiredFields {
		if !seen[j] || k == "RequestId" && r.RequestID == "" {
			return "has no " + k
		}
	}
	return ""
}

// requiredFields are the fields every REPORT line has.
var requiredFields = [...]string{"RequestId", "Duration", "Billed Duration", "Memory Size", "Max Memory Used"}

// reportFields set a field of a Report from its text; they return what the
// text should have been, "" when it was.
var reportFields = map[string]func(r *Report, v string) string{
	"RequestId":               func(r *Report, v string) string { r.RequestID, _, _ = cut(v, ' '); return "" },
	"Duration":                msField(func(r *Report) *time.Duration { return &r.Duration }),
	"Billed Duration":         msField(func(r *Report) *time.Duration { return &r.BilledDuration }),
	"Init Duration":           msField(func(r *Report) *time.Duration { return &r.InitDuration }),
	"Restore Duration":        msField(func(r *Report) *time.Duration { return &r.RestoreDuration }),
	"Billed Restore Duration": msField(func(r *Report) *time.Duration { return &r.BilledRestoreDuration }),
	"Memory Size": func(r *Report, v string) string {
		r.MemorySizeMB = parseMB(v)
		return mbWant(r.MemorySizeMB)
	},
	"Max Memory Used": func(r *Report, v string) string {
		mb := parseMB(v)
		r.MaxMemoryUsed = int64(mb) << 20
		return mbWant(mb)
	},
	"Status":       func(r *Report, v string) string { r.Status = v; return "" },
	"Error Type":   func(r *Report, v string) string { r.ErrorType = v; return "" },
	"XRAY TraceId": func(r *Report, v string) string { r.TraceID = v; return "" },
	"SegmentId":    func(r *Report, v string) string { r.SegmentID = v; return "" },
	"Sampled":      func(r *Report, v string) string { r.Sampled = v; return "" },
}

func msField(field func(*Report) *time.Duration) func(*Report, string) string {
	return func(r *Report, v string) string {
		d, ok := parseMs(v)
		if !ok {
			return "a number of milliseconds"
		}
		*field(r) = d
		return ""
	}
}

func mbWant(mb int) string {
	if mb < 0 {
		return "a number of MB"
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
