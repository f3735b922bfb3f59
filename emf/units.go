package emf

import (
	"strings"
	"unsafe"

	"github.com/lambdabridge/lambdabridge/metric"
)

// units are CloudWatch's units, as declared in the EMF specification; the
// strings returned for a point's Unit are these constants, so reading a unit
// allocates nothing.
var units = [...]string{
	"Seconds", "Microseconds", "Milliseconds",
	"Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
	"Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// unitKinds[i] is metric.EMFKind(units[i]), computed once.
var unitKinds = func() (k [len(units)]metric.Kind) {
	for i, u := range units {
		k[i] = metric.EMFKind(u)
	}
	return k
}()

// noUnitKind is the kind of a metric declared without a unit.
var noUnitKind = metric.EMFKind("")

// unitIndex returns the index in units of the unit spelled exactly as b,
// or -1.
func unitIndex(b []byte) int {
	for i, u := range units {
		if u == string(b) {
			return i
		}
	}
	return -1
}

// unitAliases are spellings seen in the wild, mapped to CloudWatch's unit.
var unitAliases = map[string]string{
	"s": "Seconds", "sec": "Seconds", "secs": "Seconds", "second": "Seconds",
	"ms": "Milliseconds", "millisecond": "Milliseconds", "msec": "Milliseconds",
	"us": "Microseconds", "µs": "Microseconds", "microsecond": "Microseconds",
	"b": "Bytes", "byte": "Bytes", "kb": "Kilobytes", "mb": "Megabytes", "gb": "Gigabytes", "tb": "Terabytes",
	"bit": "Bits", "%": "Percent", "percentage": "Percent", "pct": "Percent",
	"count": "Count", "counter": "Count", "1": "Count",
	"count/s": "Count/Second", "/s": "Count/Second", "per second": "Count/Second",
	"bytes/s": "Bytes/Second", "b/s": "Bytes/Second",
	"none": "None", "": "None",
}

// unitHint suggests the CloudWatch unit a wrong one likely meant.
func unitHint(b []byte) string {
	s := string(b)
	for _, u := range units {
		if strings.EqualFold(u, s) {
			return "units are case-sensitive: write \"" + u + "\""
		}
	}
	if u, ok := unitAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return "write \"" + u + "\""
	}
	return "one of Seconds, Microseconds, Milliseconds, Bytes..Terabytes, Bits..Terabits, Percent, Count, " +
		"Bytes/Second..Terabytes/Second, Bits/Second..Terabits/Second, Count/Second, None"
}

// unsafeString views b as a string for a call that does not keep it
// (strconv parsing of a number already validated).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
