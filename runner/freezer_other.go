//go:build !linux

package runner

type freezerV1 struct{}

func (z *freezerV1) setup(bool) bool { return false }
func (z *freezerV1) close()          {}

func (e *env) attachFreezer(int)  {}
func (e *env) v1Freeze(bool) bool { return false }
func (e *env) removeFreezer()     {}

func (r *Runner) freezeMode() string {
	if !r.cfg.freeze {
		return "off"
	}
	return "SIGSTOP"
}

func (r *Runner) freezeWakesPollers() bool { return r.cfg.freeze }
