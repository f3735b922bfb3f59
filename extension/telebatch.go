package extension

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/lambdabridge/lambdabridge/internal/jsonscan"
)

// decodeBatch splits a Telemetry API batch (a JSON array of
// {"time","type","record"} objects) into events without reflection: type
// is decoded, time and record are kept as raw JSON values, and every
// other member is skipped. It appends to dst and returns it. The batch
// must be valid JSON, else it is an error and encoding/json decides
// (decodeBatchSlow).
func decodeBatch(dst []teleEvent, b []byte) ([]teleEvent, error) {
	d := jsonscan.Scanner{B: b}
	d.WS()
	if !d.Eat('[') {
		return dst, errBatch
	}
	if d.WS(); d.Eat(']') {
		return dst, end(&d)
	}
	for {
		var ev teleEvent
		typeOK := true
		if !d.Object(func(key, val []byte) bool {
			// encoding/json's rule: keys match case-insensitively, the last wins
			switch {
			case bytes.EqualFold(key, []byte("time")):
				ev.Time = val
			case bytes.EqualFold(key, []byte("type")):
				ev.Type, typeOK = eventType(val)
			case bytes.EqualFold(key, []byte("record")):
				ev.Record = val
			}
			return typeOK
		}) {
			return dst, errBatch
		}
		dst = append(dst, ev)
		d.WS()
		if d.Eat(']') {
			return dst, end(&d)
		}
		if !d.Eat(',') {
			return dst, errBatch
		}
	}
}

// end checks that only white space follows the array.
func end(d *jsonscan.Scanner) error {
	if !d.End() {
		return errBatch
	}
	return nil
}

// decodeBatchSlow is decodeBatch by encoding/json: the fallback that gives
// the error of a batch decodeBatch refused.
func decodeBatchSlow(dst []teleEvent, b []byte) ([]teleEvent, error) {
	var batch []teleEvent
	if err := json.Unmarshal(b, &batch); err != nil {
		return dst, err
	}
	return append(dst, batch...), nil
}

var errBatch = errors.New("telemetry batch: not a JSON array of objects")

// eventType decodes the type of an event, without a copy for the types
// the platform sends with every invocation.
func eventType(raw []byte) (string, bool) {
	switch string(raw) {
	case `"function"`:
		return "function", true
	case `"extension"`:
		return "extension", true
	case `"platform.start"`:
		return "platform.start", true
	case `"platform.runtimeDone"`:
		return "platform.runtimeDone", true
	case `"platform.report"`:
		return "platform.report", true
	}
	return jsonscan.Unquote(raw)
}
