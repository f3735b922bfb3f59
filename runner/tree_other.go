//go:build !linux

package runner

import "syscall"

// procTree: without Linux's cgroups and /proc, an environment is its
// process group, killed as one.
type procTree struct{ disabled bool }

func (t *procTree) setup(*Runner)                 {}
func (t *procTree) tell(string, int)              {}
func (t *procTree) tellArg(string, string)        {}
func (t *procTree) close()                        {}
func (t *procTree) rootDir() string               { return "" }
func (e *env) procAttr(bool) *syscall.SysProcAttr { return sysProcAttr() }
func (e *env) doneStarting(bool)                  {}
func (e *env) killTree()                          {}
func (e *env) removeCgroup()                      {}
func (e *env) cgroupFreeze(bool) bool             { return false }
