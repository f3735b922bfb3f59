package metric

import "testing"

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"ProcessingLatency": "processing_latency",
		"MyApp/Orders":      "my_app_orders",
		"HTTPRequests":      "http_requests",
		"S3Bucket":          "s3_bucket",
		"getV2Items":        "get_v2_items",
		"already_snake":     "already_snake",
		"dots.and-dashes":   "dots_and_dashes",
		"  padded  ":        "padded",
		"__x__":             "x",
		"ID":                "id",
		"functionVersion":   "function_version",
		"Ümlaut":            "mlaut",
		"":                  "",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTranslate(t *testing.T) {
	tests := []struct {
		p    Point
		want Family
	}{
		{Point{Format: FormatEMF, Namespace: "Shop", Name: "Latency", Unit: "Milliseconds"},
			Family{Name: "shop_latency_seconds", Type: TypeHistogram, Unit: "seconds", Scale: 1e-3}},
		{Point{Format: FormatEMF, Namespace: "MyApp/Orders", Name: "Placed", Unit: "Count"},
			Family{Name: "my_app_orders_placed_total", Type: TypeCounter, Scale: 1}},
		{Point{Format: FormatEMF, Namespace: "A", Name: "Payload", Unit: "Kilobytes"},
			Family{Name: "a_payload_bytes", Type: TypeGauge, Unit: "bytes", Scale: 1024}},
		{Point{Format: FormatEMF, Namespace: "A", Name: "Link", Unit: "Megabits/Second"},
			Family{Name: "a_link_bits_per_second", Type: TypeGauge, Unit: "bits_per_second", Scale: 1e6}},
		{Point{Format: FormatEMF, Namespace: "A", Name: "CPU", Unit: "Percent"},
			Family{Name: "a_cpu_percent", Type: TypeGauge, Unit: "percent", Scale: 1}},
		{Point{Format: FormatEMF, Namespace: "A", Name: "Queue"},
			Family{Name: "a_queue", Type: TypeGauge, Scale: 1}},
		{Point{Format: FormatEMF, Namespace: "A", Name: "WaitSeconds", Unit: "Seconds"},
			Family{Name: "a_wait_seconds", Type: TypeHistogram, Unit: "seconds", Scale: 1}},
		// A namespace starting with a digit is valid EMF (aws-embedded-metrics
		// tests it); the family gets a leading "_", as Sanitize gives Datadog names.
		{Point{Format: FormatEMF, Namespace: "1234abc.-_/#:", Name: "Hits", Unit: "Count"},
			Family{Name: "_1234abc_hits_total", Type: TypeCounter, Scale: 1}},
		{Point{Format: FormatEMF, Name: "9Lives"},
			Family{Name: "_9_lives", Type: TypeGauge, Scale: 1}},
		{Point{Format: FormatDogStatsD, Name: "page.views-all", Kind: Counter},
			Family{Name: "page_views_all_total", Type: TypeCounter, Scale: 1}},
		{Point{Format: FormatDogStatsD, Name: "db.query", Kind: Timer},
			Family{Name: "db_query_seconds", Type: TypeHistogram, Unit: "seconds", Scale: 1e-3}},
		{Point{Format: FormatDatadogJSON, Name: "cart.size", Kind: Distribution},
			Family{Name: "cart_size", Type: TypeHistogram, Scale: 1}},
		{Point{Format: FormatDogStatsD, Name: "users", Kind: Set},
			Family{Name: "users", Type: TypeGauge, Scale: 1}},
		{Point{Format: FormatPlatform, Name: "lambda_duration_seconds", Kind: Histogram, Unit: "Seconds"},
			Family{Name: "lambda_duration_seconds", Type: TypeHistogram, Unit: "seconds", Scale: 1}},
	}
	for _, tt := range tests {
		got := Translate(&tt.p)
		got.Help = ""
		if got != tt.want {
			t.Errorf("Translate(%s) = %+v, want %+v", tt.p.String(), got, tt.want)
		}
	}
}

func TestPromLabels(t *testing.T) {
	p := Point{Format: FormatEMF, Labels: []Label{{"ServiceName", "checkout"}, {"service_name", "dup"}, {"Region", "eu"}}}
	got := PromLabels(nil, &p)
	want := []Label{{"service_name", "checkout"}, {"region", "eu"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("PromLabels = %v, want %v", got, want)
	}
	d := Point{Format: FormatDogStatsD, Kind: ServiceCheck, Name: "db.up", Labels: []Label{{"env.name", "prod"}, {"canary", ""}}}
	got = PromLabels(nil, &d)
	want = []Label{{"check", "db.up"}, {"env_name", "prod"}, {"canary", "true"}}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("PromLabels = %v, want %v", got, want)
	}
}

func TestPromLabelsMany(t *testing.T) {
	p := Point{Format: FormatDogStatsD}
	for i := 0; i < 30000; i++ {
		p.Labels = append(p.Labels, Label{Name: "t" + itoa(i%20000), Value: "v"})
	}
	if got := PromLabels(nil, &p); len(got) != 20000 {
		t.Fatalf("PromLabels kept %d labels, want 20000 distinct", len(got))
	}
}
