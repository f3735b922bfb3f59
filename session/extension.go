package session

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/loopback"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
)

// ExtensionName is the executable of lambdabridge's Lambda extension in a
// layer (extensions/lambdabridge-extension). Where a function's layers
// hold it, it is the function's metrics agent, as it is on Lambda: each
// execution environment's extension gets DogStatsD and EMF agent ports of
// its own (on Lambda every environment has its own loopback; here they
// share one), and the session relays the datagrams it reads to it.
const ExtensionName = "lambdabridge-extension"

// The extension's variables of its DogStatsD and EMF agent addresses
// (package extension's EnvDogStatsDAddr and EnvEMFAgentAddr).
const (
	ExtensionDogStatsDVar = "LAMBDABRIDGE_DOGSTATSD_ADDR"
	ExtensionEMFAgentVar  = "LAMBDABRIDGE_EMF_AGENT_ADDR"
)

// extensionFns are the functions whose layers hold lambdabridge's
// extension, with the variables their definitions set.
type extensionFns struct {
	mu  sync.Mutex
	env map[string]map[string]string
}

// add records d when its layers hold the extension and reports whether
// they do.
func (x *extensionFns) add(d *function.Definition) bool {
	if !slices.Contains(d.Extensions(), ExtensionName) {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.env == nil {
		x.env = map[string]map[string]string{}
	}
	x.env[d.Name] = maps.Clone(d.Env)
	return true
}

func (x *extensionFns) lookup(fn string) (map[string]string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	env, ok := x.env[fn]
	return env, ok
}

// ExtensionFunctions lists the functions (given to Apply) whose layers hold
// lambdabridge's extension.
func (s *Session) ExtensionFunctions() []string {
	s.ext.mu.Lock()
	defer s.ext.mu.Unlock()
	return slices.Sorted(maps.Keys(s.ext.env))
}

// extensionVars returns the variables of one environment of a function
// whose layers hold lambdabridge's extension (user: what its definition
// sets, never overridden): free loopback ports for the extension's
// DogStatsD and EMF agent listeners, and the function's DogStatsD client
// pointed at a relay listener of the session's, which reads each datagram
// and passes it on to the extension (straight at the extension when the
// session reads no DogStatsD). With the session's EMF agent on, the
// function's EMF agent endpoint is the extension's.
func (s *Session) extensionVars(fn, environment string, user map[string]string) []string {
	vars := map[string]string{}
	set := func(k, v string) {
		if _, ok := user[k]; !ok {
			vars[k] = v
		}
	}
	dsd, ok := user[ExtensionDogStatsDVar]
	if !ok {
		port, err := loopback.AgentPort()
		if err != nil {
			s.perEnv.fail(fmt.Errorf("environment %s: extension DogStatsD port: %w", environment, err))
			return nil
		}
		dsd = "127.0.0.1:" + strconv.Itoa(port)
		vars[ExtensionDogStatsDVar] = dsd
	}
	if ap, err := netip.ParseAddrPort(dsd); err == nil && dsd != "none" {
		clientAddr := ap
		if on(s.o.agents.DogStatsD) || s.o.agents.PerEnvironment {
			if relay, err := s.relay(fn, environment, ap); err != nil {
				s.perEnv.fail(fmt.Errorf("environment %s: %w", environment, err))
			} else {
				clientAddr = relay
			}
		}
		for k, v := range listen.DogStatsDClientEnv(clientAddr) {
			set(k, v)
		}
	}
	if _, ok := user[ExtensionEMFAgentVar]; !ok {
		port, err := loopback.AgentPort()
		if err != nil {
			s.perEnv.fail(fmt.Errorf("environment %s: extension EMF agent port: %w", environment, err))
		} else {
			vars[ExtensionEMFAgentVar] = "127.0.0.1:" + strconv.Itoa(port)
			if on(s.o.agents.EMF) {
				set(listen.EnvEMFAgentEndpoint, "tcp://127.0.0.1:"+strconv.Itoa(port))
				set("AWS_EMF_ENVIRONMENT", "Agent")
			}
		}
	}
	out := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// relay binds the environment's DogStatsD listener, which reads every
// datagram into the pipeline and sends it on to the extension at to; it
// returns the listener's address.
func (s *Session) relay(fn, environment string, to netip.AddrPort) (netip.AddrPort, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("relay to the extension at %s: %w", to, err)
	}
	read := s.p.DatagramOrigin(metric.Origin{Function: fn, Environment: environment})
	var warned sync.Once
	l, err := listen.NewDogStatsD("127.0.0.1:0", func(b []byte, from netip.AddrPort) {
		if _, err := conn.Write(b); err != nil {
			warned.Do(func() {
				s.o.log.Warn("the relay to the function's lambdabridge extension failed: it misses datagrams", "function", fn, "environment", environment, "err", err)
			})
		}
		read(b, from)
	}, listen.WithLogger(s.o.log))
	if err != nil {
		conn.Close()
		return netip.AddrPort{}, err
	}
	s.perEnv.add(envKey{fn, environment}, &envListener{l: l, fwd: conn})
	return l.Addr(), nil
}
