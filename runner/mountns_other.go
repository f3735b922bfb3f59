//go:build !linux

package runner

import "syscall"

func nsAttr(*syscall.SysProcAttr) {}

func nsArgv(_ string, _ []string, _ string, argv []string) []string { return argv }

func probeMountNamespace([]string) (string, string) {
	return "", "mount namespaces need Linux"
}
