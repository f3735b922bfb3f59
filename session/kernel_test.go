package session

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/runner"
)

// Datagrams the kernel drops under a DogStatsD flood are counted (issue
// 16), on the shared listener and on an environment's own: on the session's
// /metrics registry (lambdabridge_dogstatsd_kernel_dropped_datagrams_total,
// still there once the environment ended), in the summary, and as a loss
// (Failed: the commands exit 1).
func TestKernelDropsCounted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel drop counter is read on Linux only")
	}
	for _, perEnv := range []bool{false, true} {
		name := map[bool]string{false: "shared listener", true: "environment's listener"}[perEnv]
		t.Run(name, func(t *testing.T) { kernelDrops(t, perEnv) })
	}
}

func kernelDrops(t *testing.T, perEnv bool) {
	var seen atomic.Uint64
	slow := WithPointHandler(func(*metric.Point) {
		if seen.Add(1)%50 == 0 {
			time.Sleep(time.Millisecond) // a reader slower than the flood
		}
	})
	agents := Agents{DogStatsD: "127.0.0.1:0"}
	if perEnv {
		agents = Agents{PerEnvironment: true}
	}
	s, err := New(nil, WithAgents(agents), WithFunction("fn"), slow)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(t.Context())
	var addr string
	if !perEnv {
		addr = s.agents.dsd.Addr().String()
	} else {
		for _, kv := range s.EnvironmentVars("fn", "e1") {
			if v, ok := strings.CutPrefix(kv, "DD_DOGSTATSD_URL=udp://"); ok {
				addr = v
			}
		}
	}
	const sent = 60000
	testenv.SendUDP(t, addr, []byte("flood.metric:1|c|#env:test"), sent)
	stats := func() listen.Stats {
		if perEnv {
			s.perEnv.mu.Lock()
			defer s.perEnv.mu.Unlock()
			return s.perEnv.ls[envKey{"fn", "e1"}].l.Stats()
		}
		return s.agents.dsd.Stats()
	}
	var dropped uint64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st := stats(); st.Datagrams+st.KernelDropped == sent {
			dropped = st.KernelDropped
			break
		}
	}
	if dropped == 0 {
		t.Fatalf("no kernel drops under the flood (%+v): the test shows nothing", stats())
	}
	if perEnv { // the environment ends: its count stays on /metrics
		s.Lifecycle(runner.EnvEvent{Kind: runner.EnvEnded, Function: "fn", Environment: "e1", Reason: runner.EndClosed})
	}
	if got := gathered(t, s, "lambdabridge_dogstatsd_kernel_dropped_datagrams_total"); got != float64(dropped) {
		t.Errorf("self-metric lambdabridge_dogstatsd_kernel_dropped_datagrams_total = %g, want %d", got, dropped)
	}
	sum := s.Shutdown()
	if sum.KernelDropped != dropped || !sum.Failed() || !strings.Contains(sum.String(), "datagrams dropped by the kernel") {
		t.Errorf("summary: KernelDropped %d (want %d), Failed %v, %q", sum.KernelDropped, dropped, sum.Failed(), sum.String())
	}
}

// gathered returns the value of the one series of the family name on the
// session's /metrics registry.
func gathered(t *testing.T, s *Session, name string) float64 {
	t.Helper()
	mfs, err := s.Pipeline().Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no single series of %s on /metrics", name)
	return 0
}
