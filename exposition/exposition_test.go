package exposition

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func testFamilies(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_orders_total", Help: "Orders."}, []string{"service"})
	c.WithLabelValues("checkout").Add(3)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "shop_latency_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.5}})
	h.Observe(0.1)
	h.Observe(0.2)
	reg.MustRegister(c, h)
	return reg
}

func TestWrite(t *testing.T) {
	fams, err := testFamilies(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f    Format
		want []string
	}{
		{FormatPrometheus, []string{`shop_orders_total{service="checkout"} 3`, `shop_latency_seconds_bucket{le="0.5"} 2`, `shop_latency_seconds_sum 0.30000000000000004`}},
		{FormatOpenMetrics, []string{`# TYPE shop_orders counter`, `shop_orders_total{service="checkout"} 3.0`, "# EOF"}},
		{FormatJSON, []string{`"name": "shop_orders_total"`, `"le": "+Inf"`, `"count": 2`}},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, tt.f, fams); err != nil {
			t.Fatalf("%s: %v", tt.f, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", tt.f, w, buf.String())
			}
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) succeeded")
	}
}
