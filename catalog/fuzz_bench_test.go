package catalog_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/metric"
)

// FuzzRead: a catalog file is outside input; Read must never panic, and
// what it accepts must write and read back to the same bytes.
func FuzzRead(f *testing.F) {
	if b, err := os.ReadFile("testdata/fixture.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"schema":"lambdabridge.catalog","version":1,"families":[]}`))
	f.Add([]byte(`{"schema":"lambdabridge.catalog","version":1,"families":[{"name":"a","type":"histogram","labels":[{"name":"x","examples":["1"],"distinct":3}],"observed":{"count":1,"min":1,"max":1},"sources":[{"format":"emf","namespace":"N","name":"a","kind":"histogram","dimension_sets":[[]],"points":1,"first_seen":"f:1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := catalog.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		var w1, w2 bytes.Buffer
		if err := c.Write(&w1); err != nil {
			return // e.g. NaN that JSON cannot hold
		}
		c2, err := catalog.Read(bytes.NewReader(w1.Bytes()))
		if err != nil {
			t.Fatalf("own output does not read back: %v\n%s", err, w1.Bytes())
		}
		c2.Write(&w2)
		if !bytes.Equal(w1.Bytes(), w2.Bytes()) {
			t.Fatalf("not stable:\n%s\n%s", w1.Bytes(), w2.Bytes())
		}
		c.Lint()
	})
}

func BenchmarkAdd(b *testing.B) {
	ps := catalogtest.Points()
	c := catalog.New()
	b.ReportAllocs()
	b.SetBytes(int64(len(ps)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ps {
			c.Add(&ps[j])
		}
	}
}

// BenchmarkTranslate is the baseline: what Add costs at least.
func BenchmarkTranslate(b *testing.B) {
	ps := catalogtest.Points()
	var scratch [8]metric.Label
	b.ReportAllocs()
	b.SetBytes(int64(len(ps)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range ps {
			_ = metric.Translate(&ps[j])
			_ = metric.PromLabels(scratch[:0], &ps[j])
		}
	}
}
