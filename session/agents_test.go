package session

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// TestAgentsOneEnvironment: the agents as the Lambda extension runs them.
// Their points carry the environment (Agents.Origin); polled UDP sockets
// (Agents.DogStatsDPoll, EMFPoll) are read at DrainAgents, not as datagrams
// come; after
// StopAgents the listeners are closed, what they held was read, their
// AgentStats are final, and the shutdown does not stop them again.
func TestAgentsOneEnvironment(t *testing.T) {
	var seen pointOrigins
	s, err := New(nil, WithFunction("fn"), WithPointHandler(seen.add), WithAgents(Agents{
		DogStatsD: "127.0.0.1:0", EMF: "127.0.0.1:0",
		Origin: metric.Origin{Environment: "env-1"}, DogStatsDPoll: time.Hour, EMFPoll: time.Hour,
	}))
	if err != nil {
		t.Fatal(err)
	}
	s.Start(t.Context())
	send := func(addr netip.AddrPort, network, payload string) {
		t.Helper()
		c, err := net.Dial(network, addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	points := func(f metric.Format) []metric.Origin {
		seen.mu.Lock()
		defer seen.mu.Unlock()
		return append([]metric.Origin(nil), seen.by[f]...)
	}
	emf := `{"_aws":{"Timestamp":` + strconv.FormatInt(time.Now().UnixMilli(), 10) + `,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[[]],"Metrics":[{"Name":"Orders"}]}]},"Orders":1}`
	send(s.agents.dsd.Addr(), "udp", "orders:1|c")
	send(s.agents.emf.Addr(), "udp", emf)
	time.Sleep(100 * time.Millisecond)
	if got := s.AgentStats(); len(got) != 2 || got[0].Name != "dogstatsd" || got[0].Datagrams != 0 || got[1].Datagrams != 0 {
		t.Fatalf("before DrainAgents: %+v, want two listeners, nothing read on the polled sockets", got)
	}
	s.DrainAgents()
	if got := s.AgentStats(); got[0].Datagrams != 1 || got[1].Datagrams != 1 {
		t.Fatalf("after DrainAgents: %+v, want one datagram read on each", got)
	}
	send(s.agents.dsd.Addr(), "udp", "orders:2|c") // read by StopAgents
	send(s.agents.emf.Addr(), "tcp", emf+"\n")
	s.StopAgents()
	stats := s.AgentStats()
	if stats[0].Datagrams != 2 || stats[1].Lines != 2 {
		t.Fatalf("after StopAgents: %+v, want 2 datagrams and 2 EMF lines read", stats)
	}
	from := time.Now()
	sum := s.Shutdown()
	if d := time.Since(from); d >= Settle {
		t.Errorf("the shutdown took %v: it waited for listeners StopAgents had stopped", d)
	}
	if sum.Input.Datagrams != 2 {
		t.Errorf("summary: %d datagrams, want 2", sum.Input.Datagrams)
	}
	for f, want := range map[metric.Format]int{metric.FormatDogStatsD: 2, metric.FormatEMF: 2} {
		got := points(f)
		if len(got) != want {
			t.Fatalf("%s: %d points, want %d", f, len(got), want)
		}
		for _, o := range got {
			if o.Function != "fn" || o.Environment != "env-1" {
				t.Errorf("%s point from %+v, want function fn, environment env-1", f, o)
			}
		}
	}
}
