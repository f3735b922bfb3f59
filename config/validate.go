package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/function"
)

// Checks of single values, shared by the flags and the file so that both
// accept the same values. Each returns nil or an error saying what is
// allowed, without naming the value's source: the file prefixes the key and
// its line, a flag its name:
//
//	if err := config.CheckConcurrency(n); err != nil {
//		return usageErrorf("--concurrency %v", err)
//	}

// CheckMemoryMB accepts Lambda's memory sizes, 128..10240 MB.
func CheckMemoryMB(mb int) error {
	if mb < function.MinMemoryMB || mb > function.MaxMemoryMB {
		return fmt.Errorf("%d: Lambda allows %d..%d MB", mb, function.MinMemoryMB, function.MaxMemoryMB)
	}
	return nil
}

// CheckTimeout accepts what function.ParseTimeout reads: 1..900 seconds,
// as "3", "2.5", "3s" or "1500ms".
func CheckTimeout(s string) error {
	_, err := function.ParseTimeout(s)
	return err
}

// CheckConcurrency accepts at least one execution environment.
func CheckConcurrency(n int) error { return atLeast(n, 1, "execution environment") }

// CheckReservedConcurrency accepts 0 (none reserved) or more.
func CheckReservedConcurrency(n int) error { return atLeast(n, 0, "(0: none reserved)") }

// CheckIdleTimeout accepts a positive duration.
func CheckIdleTimeout(d time.Duration) error { return positive(d) }

// CheckMaxSeries accepts 0 (the default limit,
// aggregate.DefaultMaxSeries or aggregate.DefaultMaxSeriesPerFamily) or a
// positive number of series.
func CheckMaxSeries(n int) error { return atLeast(n, 0, "(0: the default limit)") }

// CheckTTL accepts 0 (series never expire) or a positive duration.
func CheckTTL(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%v: must not be negative (0: series never expire)", d)
	}
	return nil
}

// CheckPushInterval accepts 0 (push after every invocation) or a positive
// interval.
func CheckPushInterval(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%v: must not be negative (0: push after every invocation)", d)
	}
	return nil
}

// CheckRequestTimeout accepts 0 (the sink's default) or a positive
// timeout.
func CheckRequestTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%v: must not be negative (0: the default)", d)
	}
	return nil
}

// CheckRemoteWriteInterval accepts a positive interval (absent means
// remotewrite.DefaultInterval, 15s).
func CheckRemoteWriteInterval(d time.Duration) error { return positive(d) }

func atLeast(n, min int, what string) error {
	if n < min {
		return fmt.Errorf("%d: must be at least %d %s", n, min, what)
	}
	return nil
}

func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%v: must be positive", d)
	}
	return nil
}

// valueCheck checks the value at a path of the file ("runner.concurrency",
// "functions[].memory": [] stands for every item of a list).
type valueCheck struct {
	path  string
	check func(*yaml.Node) error
}

var valueChecks = []valueCheck{
	{"functions[].memory", intCheck(CheckMemoryMB)},
	{"functions[].timeout", func(n *yaml.Node) error { return CheckTimeout(n.Value) }},
	{"runner.concurrency", intCheck(CheckConcurrency)},
	{"runner.reserved_concurrency", intCheck(CheckReservedConcurrency)},
	{"runner.idle_timeout", durationCheck(CheckIdleTimeout)},
	{"aggregation.max_series", intCheck(CheckMaxSeries)},
	{"aggregation.max_series_per_family", intCheck(CheckMaxSeries)},
	{"aggregation.ttl", durationCheck(CheckTTL)},
	{"remote_write_interval", durationCheck(CheckRemoteWriteInterval)},
	{"pushgateway[].interval", durationCheck(CheckPushInterval)},
	{"pushgateway[].timeout", durationCheck(CheckRequestTimeout)},
}

func intCheck(check func(int) error) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		var v int
		if err := n.Decode(&v); err != nil {
			return err
		}
		return check(v)
	}
}

func durationCheck(check func(time.Duration) error) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		var v time.Duration
		if err := n.Decode(&v); err != nil {
			return err
		}
		return check(v)
	}
}

// checkValues applies valueChecks to the document and reports every value
// that fails, each with its line and key, in the order of the file.
func checkValues(doc *yaml.Node) error {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	var found []located
	for _, c := range valueChecks {
		for _, v := range lookup(doc, c.path) {
			if err := c.check(v.node); err != nil {
				found = append(found, located{v.node.Line, fmt.Errorf("line %d: %s: %w", v.node.Line, v.key, err)})
			}
		}
	}
	slices.SortStableFunc(found, func(a, b located) int { return cmp.Compare(a.line, b.line) })
	errs := make([]error, len(found))
	for i, f := range found {
		errs[i] = f.err
	}
	return errors.Join(errs...)
}

type located struct {
	line int
	err  error
}

type keyed struct {
	key  string // "functions[1].memory"
	node *yaml.Node
}

// lookup returns the nodes at path under n, with their keys.
func lookup(n *yaml.Node, path string) []keyed {
	at := []keyed{{"", n}}
	for _, seg := range strings.Split(path, ".") {
		name, list := strings.CutSuffix(seg, "[]")
		var next []keyed
		for _, k := range at {
			v := mapValue(k.node, name)
			if v == nil {
				continue
			}
			key := strings.TrimPrefix(k.key+"."+name, ".")
			if !list {
				next = append(next, keyed{key, v})
				continue
			}
			if v.Kind != yaml.SequenceNode {
				continue
			}
			for i, item := range v.Content {
				next = append(next, keyed{key + "[" + strconv.Itoa(i) + "]", item})
			}
		}
		at = next
	}
	return at
}

// mapValue is the value of key in a mapping node, nil when absent.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
