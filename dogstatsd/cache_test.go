package dogstatsd

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

// TestCachesKeepResults parses lines whose names and tag lists repeat,
// collide in the caches' slots (same length and bytes at the sampled
// places) and change, with one warm parser, and checks every point against
// a fresh parser's.
func TestCachesKeepResults(t *testing.T) {
	tagLists := []string{"env:prod,service:web", "env:prod,service:wxb", "env:prod,service:web,x",
		"env:prxd,service:web", "a,b:c,,d:", "env:prod,service:web", "", "k:" + fmt.Sprint(make([]int, 200))}
	names := []string{"page.views", "page.vxews", "page.views", "db.q"}
	warm := NewParser()
	for i := range 200 {
		line := fmt.Sprintf("%s:%d|c|#%s", names[i%len(names)], i, tagLists[(i*7)%len(tagLists)])
		var got, want metric.Batch
		warm.Datagram(&got, []byte(line), metric.Origin{Source: "t"})
		NewParser().Datagram(&want, []byte(line), metric.Origin{Source: "t"})
		if diff := cmp.Diff(want.Points, got.Points); diff != "" {
			t.Fatalf("line %q (-fresh +warm):\n%s", line, diff)
		}
	}
}
