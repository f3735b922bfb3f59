//go:build !linux

package runner

type cpuLimiter struct{}

func (c *cpuLimiter) setup(string, bool)                       {}
func (c *cpuLimiter) describe(int) string                      { return "not limited (needs Linux cgroups)" }
func (c *cpuLimiter) limitV2(string, int)                      {}
func (c *cpuLimiter) attachV1(string, string, int, int) string { return "" }
func (c *cpuLimiter) close()                                   {}
func removeV1(string)                                          {}

func (e *env) setupCPU()     { e.f.r.tree.setup(e.f.r) }
func (e *env) attachCPU(int) {}
func (e *env) removeCPU()    {}
func (e *env) endInitCPU()   {}
