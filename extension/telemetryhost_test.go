package extension

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTelemetryHost: the listener binds sandbox.localdomain only where the
// hosts file names it (Lambda), never by asking DNS, else loopback.
func TestTelemetryHost(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, hosts, want string }{
		{"lambda", "127.0.0.1 localhost\n169.254.100.1 sandbox.localdomain sandbox\n", "sandbox.localdomain"},
		{"upper case alias", "10.0.0.1 other SANDBOX.LOCALDOMAIN\n", "sandbox.localdomain"},
		{"commented out", "# 169.254.100.1 sandbox.localdomain\n127.0.0.1 localhost\n", "127.0.0.1"},
		{"only as an address field", "sandbox.localdomain other\n", "127.0.0.1"},
		{"absent", "127.0.0.1 localhost\n", "127.0.0.1"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.hosts), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := telemetryHost(path); got != tc.want {
			t.Errorf("%s: telemetryHost = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := telemetryHost(filepath.Join(dir, "missing")); got != "127.0.0.1" {
		t.Errorf("no hosts file: %q", got)
	}
}
