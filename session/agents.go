package session

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// Agents are the endpoints a function's metric agents talk to: the
// DogStatsD UDP port the Datadog extension offers, and the CloudWatch
// agent's EMF endpoint (TCP and UDP). "" or "none" turns one off.
type Agents struct {
	// DogStatsD is the loopback UDP address (listen.DefaultDogStatsDAddr).
	DogStatsD string
	// EMF is the loopback address of the EMF agent endpoint
	// (listen.DefaultEMFAddr).
	EMF string
	// PerEnvironment gives every execution environment its own DogStatsD
	// listener on a free loopback port (Session.EnvironmentVars), so each
	// datagram says which function and environment sent it.
	PerEnvironment bool
	// DogStatsDFlag and EMFFlag name the flags that change the addresses,
	// for busy-port errors (default --dogstatsd-addr, --emf-agent-addr).
	DogStatsDFlag, EMFFlag string
	// Origin is what the listeners' points carry: for listeners that serve
	// one execution environment (the Lambda extension), its function and
	// environment. Its function defaults to the session's (WithFunction).
	Origin metric.Origin
	// DogStatsDPoll and EMFPoll read the DogStatsD socket and the EMF
	// agent's UDP socket at that interval and at each Session.DrainAgents
	// instead of at each datagram (listen.WithPolling): for a reader that
	// shares the function's CPU. 0 reads each datagram as it comes.
	DogStatsDPoll, EMFPoll time.Duration
}

// Settle is how long Shutdown lets the listeners read what functions sent
// just before they ended (UDP has no end-of-stream to wait for).
const Settle = 50 * time.Millisecond

// AgentStats is what one listener received.
type AgentStats struct {
	Name string // dogstatsd, emf-agent
	Addr string
	listen.Stats
}

type agents struct {
	dsd *listen.DogStatsD
	emf *listen.EMFAgent
	// dsdAddr and emfAddr are their addresses' text, made once: the
	// extension reads AgentStats at each invocation.
	dsdAddr, emfAddr string
	env              map[string]string
	wg               sync.WaitGroup
	end              context.CancelFunc
	// stopped: stop ran (Session.StopAgents or the shutdown).
	stopped bool
}

func on(addr string) bool { return addr != "" && addr != "none" }

// startAgents binds the listeners and feeds what they receive to p; fn
// names the function their points belong to ("" when unknown) unless
// a.Origin does.
func startAgents(a Agents, p *pipeline.Pipeline, fn string, log *slog.Logger) (*agents, error) {
	ag := &agents{env: map[string]string{}}
	origin := a.Origin
	if origin.Function == "" {
		origin.Function = fn
	}
	if on(a.DogStatsD) {
		l, err := listen.NewDogStatsD(a.DogStatsD, p.DatagramOrigin(origin), listen.WithFlagName(orDefault(a.DogStatsDFlag, "--dogstatsd-addr")),
			listen.WithLogger(log), listen.WithPolling(a.DogStatsDPoll))
		if err != nil {
			return nil, err
		}
		ag.dsd, ag.dsdAddr = l, l.Addr().String()
		maps.Copy(ag.env, l.Env())
	}
	if on(a.EMF) {
		var line int // calls are never concurrent
		l, err := listen.NewEMFAgent(a.EMF, func(b []byte, _ netip.AddrPort) {
			line++
			o := origin
			o.Source, o.Line = "emf-agent", line
			p.Line(o, "emf-agent", b)
		}, listen.WithFlagName(orDefault(a.EMFFlag, "--emf-agent-addr")), listen.WithLogger(log), listen.WithPolling(a.EMFPoll))
		if err != nil {
			ag.close()
			return nil, err
		}
		ag.emf, ag.emfAddr = l, l.Addr().String()
		maps.Copy(ag.env, l.Env())
		if err := registerEMFAgent(p, l); err != nil {
			ag.close()
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	return ag, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// serve runs the listeners until stop.
func (ag *agents) serve(ctx context.Context) {
	ctx, ag.end = context.WithCancel(ctx)
	for _, l := range ag.listeners() {
		ag.wg.Go(func() { _ = l.Serve(ctx) })
	}
}

func (ag *agents) listeners() []interface{ Serve(context.Context) error } {
	var ls []interface{ Serve(context.Context) error }
	if ag.dsd != nil {
		ls = append(ls, ag.dsd)
	}
	if ag.emf != nil {
		ls = append(ls, ag.emf)
	}
	return ls
}

// bound reports whether a shared listener is open.
func (ag *agents) bound() bool { return ag.dsd != nil || ag.emf != nil }

// stop ends the listeners (each reads what its socket holds first) and
// waits for them.
func (ag *agents) stop() {
	ag.stopped = true
	if ag.end != nil {
		ag.end()
	}
	ag.wg.Wait()
	ag.close()
}

// close releases the sockets (safe after Serve returned).
func (ag *agents) close() {
	if ag.dsd != nil {
		ag.dsd.Close()
	}
	if ag.emf != nil {
		ag.emf.Close()
	}
}

// kernelDropped sums the datagrams the kernel dropped on the listeners'
// sockets.
func (ag *agents) kernelDropped() uint64 {
	var n uint64
	for _, a := range ag.stats() {
		n += a.KernelDropped
	}
	return n
}

func (ag *agents) stats() []AgentStats {
	var out []AgentStats
	if ag.dsd != nil {
		out = append(out, AgentStats{Name: "dogstatsd", Addr: ag.dsdAddr, Stats: ag.dsd.Stats()})
	}
	if ag.emf != nil {
		out = append(out, AgentStats{Name: "emf-agent", Addr: ag.emfAddr, Stats: ag.emf.Stats()})
	}
	return out
}
