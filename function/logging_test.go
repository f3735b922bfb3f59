package function

import (
	"strings"
	"testing"
)

func TestLoggingCheck(t *testing.T) {
	cases := []struct {
		l    Logging
		want string // a part of the error, "" for none
	}{
		{Logging{}, ""},
		{Logging{Format: "JSON", ApplicationLevel: "trace", SystemLevel: "warn"}, ""},
		{Logging{Format: "Text"}, ""},
		{Logging{Format: "XML"}, "LogFormat"},
		{Logging{Format: "JSON", ApplicationLevel: "VERBOSE"}, "ApplicationLogLevel"},
		{Logging{Format: "JSON", SystemLevel: "ERROR"}, "SystemLogLevel"},
	}
	for _, c := range cases {
		errs := c.l.check()
		switch {
		case c.want == "" && len(errs) > 0:
			t.Errorf("%+v: %v", c.l, errs)
		case c.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want)):
			t.Errorf("%+v: %v, want an error about %s", c.l, errs, c.want)
		}
	}
}
