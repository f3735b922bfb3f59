package extension

import (
	"slices"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
)

// selfPoint is a point of one of the extension's own families, without
// value: its identity as record and count deliver it (and Describe
// catalogs it). Its counters count; the other families are in seconds.
func selfPoint(function, name string, kind metric.Kind, labels []metric.Label) metric.Point {
	unit := "Seconds"
	if kind == metric.Counter {
		unit = ""
	}
	return metric.Point{
		Format: metric.FormatPlatform, Name: name, Kind: kind, Unit: unit, Labels: labels,
		Origin: metric.Origin{Source: "extension", Function: function},
	}
}

// Describe adds to cat the families the extension records about itself
// (MetricInit, MetricOverhead for each flush strategy, and the kernel drop
// counter of its DogStatsD socket) for every function cat
// names: a function's log, which the dashboard is generated from, does
// not show them (`lambdabridge dashboard --extension`).
func Describe(cat *catalog.Catalog) {
	fns := []string{""}
	for _, f := range cat.Families() {
		for _, s := range f.Sources {
			fns = append(fns, s.Functions...)
		}
	}
	slices.Sort(fns)
	fns = slices.Compact(fns)
	if len(fns) > 1 {
		fns = fns[1:] // the functions named; "" only when none is
	}
	for _, fn := range fns {
		pts := []metric.Point{selfPoint(fn, MetricInit, metric.Gauge, nil)}
		for _, s := range []string{FlushInvocation, FlushPeriodic} {
			pts = append(pts, selfPoint(fn, MetricOverhead, metric.Histogram, []metric.Label{{Name: "strategy", Value: s}}))
		}
		// The EMF agent's counter is delivered too, but its clients write
		// by TCP (aws-embedded-metrics' default), where the kernel drops
		// nothing: no panel for it.
		pts = append(pts, selfPoint(fn, listen.MetricDogStatsDDrops, metric.Counter, nil))
		for i := range pts {
			cat.Add(&pts[i])
		}
	}
}
