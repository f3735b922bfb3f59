//go:build !linux

package runner

import (
	"errors"
	"os/exec"
	"syscall"
)

func nsAttr(*syscall.SysProcAttr) {}

func nsArgv(_ string, _ []string, _ string, argv []string) []string { return argv }

func probeMountNamespace([]string) (string, string) {
	return "", "mount namespaces need Linux"
}

func mountTools([]string) (string, string) { return "", "mount namespaces need Linux" }

func probeWith(string, []string) (string, string) { return "", "mount namespaces need Linux" }

type spawner struct{}

func spawnerFor(string, []string, string) (*spawner, error) {
	return nil, errors.New("mount namespaces need Linux")
}

func (*spawner) start(cmd *exec.Cmd) error { return cmd.Start() }
