package session

import (
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Datagrams the kernel drops under a DogStatsD flood are counted (issue
// 16): on the session's /metrics registry
// (lambdabridge_dogstatsd_kernel_dropped_datagrams_total), in the summary,
// and as a loss (Failed: the commands exit 1).
func TestKernelDropsCounted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel drop counter is read on Linux only")
	}
	var seen atomic.Uint64
	slow := WithPointHandler(func(*metric.Point) {
		if seen.Add(1)%50 == 0 {
			time.Sleep(time.Millisecond) // a reader slower than the flood
		}
	})
	s, err := New(nil, WithAgents(Agents{DogStatsD: "127.0.0.1:0"}), WithFunction("fn"), slow)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(t.Context())
	c, err := net.Dial("udp", s.agents.dsd.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const sent = 60000
	msg := []byte("flood.metric:1|c|#env:test")
	for range sent {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	var dropped uint64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st := s.agents.dsd.Stats(); st.Datagrams+st.KernelDropped == sent {
			dropped = st.KernelDropped
			break
		}
	}
	if dropped == 0 {
		t.Fatalf("no kernel drops under the flood (%+v): the test shows nothing", s.agents.dsd.Stats())
	}
	n, err := testutil.GatherAndCount(s.Pipeline().Registry(), "lambdabridge_dogstatsd_kernel_dropped_datagrams_total")
	if err != nil || n != 1 {
		t.Errorf("self-metric lambdabridge_dogstatsd_kernel_dropped_datagrams_total: %d series, %v", n, err)
	}
	sum := s.Shutdown()
	if sum.KernelDropped != dropped || !sum.Failed() || !strings.Contains(sum.String(), "datagrams dropped by the kernel") {
		t.Errorf("summary: KernelDropped %d (want %d), Failed %v, %q", sum.KernelDropped, dropped, sum.Failed(), sum.String())
	}
}
