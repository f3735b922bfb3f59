package function

import (
	"strings"
	"testing"
	"time"
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

func TestEventInvokeConfig(t *testing.T) {
	tmpl := `Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        MaximumEventAgeInSeconds: 120
        DestinationConfig:
          OnFailure:
            Type: SQS
  Bad:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      EventInvokeConfig:
        MaximumRetryAttempts: 3
`
	defs, err := parseTemplate([]byte(tmpl), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := defs[0].EventInvoke
	if c.Retries() != 1 || c.MaxAge() != 120*time.Second || len(defs[0].Warnings) != 1 || !strings.Contains(defs[0].Warnings[0], "DestinationConfig") {
		t.Errorf("EventInvokeConfig: retries %d age %v warnings %q", c.Retries(), c.MaxAge(), defs[0].Warnings)
	}
	if (EventInvoke{}).Retries() != 2 || (EventInvoke{}).MaxAge() != 6*time.Hour {
		t.Errorf("defaults")
	}
	if err := defs[1].Validate(); err == nil || !strings.Contains(err.Error(), "MaximumRetryAttempts") {
		t.Errorf("MaximumRetryAttempts 3: %v", err)
	}
}
