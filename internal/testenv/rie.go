package testenv

import (
	"fmt"
	"os"
	"testing"

	"github.com/lambdabridge/lambdabridge/internal/testenv/riebin"
)

// RIE is riebin.Binary for a test: when the emulator cannot be built it skips
// the test saying why (fails when CI is set, as LookPath).
func RIE(t testing.TB) string {
	t.Helper()
	bin, err := riebin.Binary()
	if err == nil {
		return bin
	}
	msg := fmt.Sprintf("testenv: no Runtime Interface Emulator: %v", err)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so a missing backend is a failure", msg)
	}
	t.Skip(msg)
	return ""
}
