package main

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// agentFlags are the listeners a function's metric agents talk to: the
// DogStatsD UDP port the Datadog extension offers, and optionally the
// CloudWatch agent's EMF endpoint.
type agentFlags struct {
	dogstatsd string
	emfAgent  bool
	emfAddr   string
	set       struct{ dogstatsd, emfAddr bool }
}

// register binds the agent flags to cmd.
func (a *agentFlags) register(cmd *kingpin.CmdClause) {
	cmd.Flag("dogstatsd-addr", "loopback UDP address receiving the function's DogStatsD datagrams (as the Datadog extension does); 'none' to turn off").Default("127.0.0.1:8125").IsSetByUser(&a.set.dogstatsd).StringVar(&a.dogstatsd)
	cmd.Flag("emf-agent", "serve the CloudWatch agent's EMF endpoint and give the function AWS_EMF_AGENT_ENDPOINT").BoolVar(&a.emfAgent)
	cmd.Flag("emf-agent-addr", "loopback address (TCP and UDP) of the EMF agent endpoint, with --emf-agent").Default("127.0.0.1:25888").IsSetByUser(&a.set.emfAddr).StringVar(&a.emfAddr)
}

// agents are the running listeners.
type agents struct {
	env  map[string]string
	wg   sync.WaitGroup
	stop context.CancelFunc
}

// start binds the listeners (a busy port is an error naming the flag),
// feeds what they receive to p and returns the variables that point the
// functions at them. fn names the function the points belong to when there
// is only one.
func (a *agentFlags) start(ctx context.Context, p *pipeline.Pipeline, fn string) (*agents, error) {
	ctx, cancel := context.WithCancel(ctx)
	ag := &agents{env: map[string]string{}, stop: cancel}
	if a.dogstatsd != "none" && a.dogstatsd != "" {
		l, err := listen.NewDogStatsD(a.dogstatsd, p.DatagramFunc(fn), listen.WithFlagName("--dogstatsd-addr"))
		if err != nil {
			cancel()
			return nil, usageErrorf("%v", err)
		}
		addr := l.Addr()
		// datadog-go reads DD_DOGSTATSD_URL; older clients and hot-shots read
		// DD_AGENT_HOST and DD_DOGSTATSD_PORT.
		ag.env["DD_DOGSTATSD_URL"] = "udp://" + addr.String()
		ag.env["DD_AGENT_HOST"] = addr.Addr().String()
		ag.env["DD_DOGSTATSD_PORT"] = strconv.Itoa(int(addr.Port()))
		ag.wg.Add(1)
		go func() { defer ag.wg.Done(); l.Serve(ctx) }()
	}
	if a.emfAgent {
		var line int
		l, err := listen.NewEMFAgent(a.emfAddr, func(b []byte, from netip.AddrPort) {
			line++
			p.Line(metric.Origin{Source: "emf-agent", Line: line, Function: fn}, "emf-agent", b)
		}, listen.WithFlagName("--emf-agent-addr"))
		if err != nil {
			ag.close()
			return nil, usageErrorf("%v", err)
		}
		for k, v := range l.Env() {
			ag.env[k] = v
		}
		ag.wg.Add(1)
		go func() { defer ag.wg.Done(); l.Serve(ctx) }()
	}
	return ag, nil
}

// apply adds the agents' variables to every definition, without overriding
// what the user set.
func (ag *agents) apply(defs []function.Definition) {
	for i := range defs {
		if defs[i].Env == nil {
			defs[i].Env = map[string]string{}
		}
		for k, v := range ag.env {
			if _, set := defs[i].Env[k]; !set {
				defs[i].Env[k] = v
			}
		}
	}
}

// settle gives datagrams the function sent just before it answered the time
// to be read from the socket (UDP has no end-of-stream to wait for).
func (ag *agents) settle() {
	if len(ag.env) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
}

// close stops the listeners and waits for them.
func (ag *agents) close() {
	ag.stop()
	ag.wg.Wait()
}

func (ag *agents) String() string { return fmt.Sprint(ag.env) }
