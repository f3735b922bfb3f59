package extension

import (
	"slices"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/metric"
)

// selfPoint is a point of one of the extension's own families, without
// value: its identity as record delivers it (and Describe catalogs it).
func selfPoint(function, name string, kind metric.Kind, labels []metric.Label) metric.Point {
	return metric.Point{
		Format: metric.FormatPlatform, Name: name, Kind: kind, Unit: "Seconds", Labels: labels,
		Origin: metric.Origin{Source: "extension", Function: function},
	}
}

// Describe adds to cat the families the extension records about itself
// (MetricInit, and MetricOverhead for each flush strategy) for every
// function cat names: a function's log, which the dashboard is generated
// from, does not show them (`lambdabridge dashboard --extension`).
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
		for i := range pts {
			cat.Add(&pts[i])
		}
	}
}
