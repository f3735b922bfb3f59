package main

import (
	"github.com/alecthomas/kingpin/v2"

	"github.com/lambdabridge/lambdabridge/session"
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

// session returns the listeners the flags ask for, as session.Agents.
func (a *agentFlags) session() session.Agents {
	ag := session.Agents{DogStatsD: a.dogstatsd, DogStatsDFlag: "--dogstatsd-addr", EMFFlag: "--emf-agent-addr"}
	if a.emfAgent {
		ag.EMF = a.emfAddr
	}
	return ag
}
