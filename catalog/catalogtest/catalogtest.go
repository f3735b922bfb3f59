// Package catalogtest holds a catalog fixture for tests: points of every
// format lambdabridge reads (EMF in several namespaces with several units and
// dimension sets, Datadog counters, gauges, timers, distributions and sets,
// and the runner's platform metrics).
//
//	c := catalogtest.Catalog()
//	d, err := dashboards.Prometheus(c)
//	pts := catalogtest.Points() // the same, as points
package catalogtest

import (
	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Points returns the fixture's points; each call returns fresh memory.
func Points() []metric.Point {
	var ps []metric.Point
	line := 0
	add := func(p metric.Point) {
		line++
		if p.Origin.Source == "" {
			p.Origin.Source = "fixture.log"
		}
		p.Origin.Line = line
		ps = append(ps, p)
	}
	l := func(kv ...string) []metric.Label {
		var ls []metric.Label
		for i := 0; i+1 < len(kv); i += 2 {
			ls = append(ls, metric.Label{Name: kv[i], Value: kv[i+1]})
		}
		return ls
	}
	shop := metric.Origin{Function: "shop"}
	pay := metric.Origin{Function: "payments"}
	emf := func(o metric.Origin, ns, name, unit string, labels []metric.Label, vs ...float64) {
		add(metric.Point{Format: metric.FormatEMF, Namespace: ns, Name: name, Kind: metric.EMFKind(unit), Unit: unit,
			Labels: labels, Values: vs, Resolution: 60, Origin: o})
	}
	// EMF, namespace Shop: two dimension sets for Latency.
	for _, svc := range []string{"checkout", "cart"} {
		emf(shop, "Shop", "Latency", "Milliseconds", l("Service", svc), 12, 48, 250, 1800)
		emf(shop, "Shop", "Latency", "Milliseconds", l("Service", svc, "Operation", "GetCart"), 12, 48)
		emf(shop, "Shop", "Orders", "Count", l("Service", svc), 1)
		emf(shop, "Shop", "PayloadSize", "Kilobytes", l("Service", svc), 3.5)
		emf(shop, "Shop", "Throughput", "Count/Second", l("Service", svc), 17)
	}
	emf(shop, "Shop", "CartValue", "None", nil, 99.5)
	// EMF, namespace MyApp/Payments (Powertools style "service" dimension).
	for _, prov := range []string{"stripe", "adyen"} {
		add(metric.Point{Format: metric.FormatEMF, Namespace: "MyApp/Payments", Name: "ChargeLatency", Kind: metric.Histogram,
			Unit: "Seconds", Labels: l("service", "payments", "Provider", prov), Values: []float64{0.2, 0.9}, Resolution: 1, Origin: pay})
		emf(pay, "MyApp/Payments", "Declines", "Count", l("service", "payments", "Provider", prov, "Reason", "insufficient_funds"), 1)
	}
	emf(pay, "MyApp/Payments", "CPUUtilization", "Percent", l("service", "payments"), 41)
	emf(pay, "MyApp/Payments", "QueueDelay", "ms", l("service", "payments"), 5)

	// Datadog.
	dd := func(f metric.Format, name string, k metric.Kind, unit string, labels []metric.Label, vs ...float64) {
		add(metric.Point{Format: f, Name: name, Kind: k, Unit: unit, Labels: labels, Values: vs, Origin: shop})
	}
	dd(metric.FormatDogStatsD, "checkout.requests", metric.Counter, "", l("env", "prod", "endpoint", "/cart"), 1)
	dd(metric.FormatDogStatsD, "checkout.requests", metric.Counter, "", l("env", "prod", "endpoint", "/pay"), 2)
	dd(metric.FormatDogStatsD, "cache.size", metric.Gauge, "", l("env", "prod"), 120)
	dd(metric.FormatDogStatsD, "db.query", metric.Timer, "Milliseconds", l("db", "orders", "canary", ""), 3, 7, 40)
	dd(metric.FormatDatadogJSON, "cart.items", metric.Distribution, "", l("service", "shop"), 1, 4, 9)
	add(metric.Point{Format: metric.FormatDogStatsD, Name: "users.unique", Kind: metric.Set, Labels: l("env", "prod"),
		Members: []string{"u1", "u2"}, Origin: shop})
	dd(metric.FormatMonitoring, "api.latency_ms", metric.Histogram, "", l("route", "/pay", "function_name", "shop"), 30, 75)

	// Platform metrics, as the runner emits them.
	for _, fn := range []string{"shop", "payments"} {
		o := metric.Origin{Source: "runner", Function: fn}
		fl := l("function_name", fn)
		plat := func(name string, k metric.Kind, unit string, vs ...float64) {
			add(metric.Point{Format: metric.FormatPlatform, Name: name, Kind: k, Unit: unit, Labels: fl, Values: vs, Origin: o})
		}
		plat("lambda_invocations_total", metric.Counter, "", 1)
		plat("lambda_errors_total", metric.Counter, "", 0)
		plat("lambda_throttles_total", metric.Counter, "", 0)
		plat("lambda_timeouts_total", metric.Counter, "", 0)
		plat("lambda_cold_starts_total", metric.Counter, "", 1)
		plat("lambda_duration_seconds", metric.Histogram, "Seconds", 0.031, 0.12)
		plat("lambda_init_duration_seconds", metric.Histogram, "Seconds", 0.25)
		plat("lambda_billed_duration_seconds_total", metric.Counter, "Seconds", 0.032)
		plat("lambda_concurrent_executions", metric.Gauge, "", 1)
		plat("lambda_max_memory_used_bytes", metric.Gauge, "Bytes", 64<<20)
		plat("lambda_estimated_cost_usd_total", metric.Counter, "", 0.0000021)
	}
	return ps
}

// Catalog returns a catalog of Points.
func Catalog() *catalog.Catalog {
	c := catalog.New()
	ps := Points()
	for i := range ps {
		c.Add(&ps[i])
	}
	return c
}
