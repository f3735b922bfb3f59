package runner

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/lambdabridge/lambdabridge/function"
)

// A function's LoggingConfig (function.Logging), as Lambda applies it:
// with LogFormat JSON the runtime gets AWS_LAMBDA_LOG_FORMAT=JSON and
// AWS_LAMBDA_LOG_LEVEL (the runtimes that support it, such as Node.js's,
// format and filter their own logs), lines of the function below
// ApplicationLogLevel are dropped (a line that is not a JSON object with a
// valid "level" is INFO, as on Lambda), and the platform lines (START,
// REPORT, INIT_REPORT, EXTENSION, TELEMETRY) are written as the JSON
// platform.* events of the Telemetry API instead, those below
// SystemLogLevel dropped (platform.initRuntimeDone and platform.runtimeDone
// are DEBUG, the others INFO). The runtime's error lines stay text.

func (f *fn) jsonLogs() bool { return f.def.Logging.JSON() }

// loggingEnv adds the LoggingConfig's variables to vars.
func (f *fn) loggingEnv(vars map[string]string) {
	l := f.def.Logging
	if l.LogGroup != "" {
		vars["AWS_LAMBDA_LOG_GROUP_NAME"] = l.LogGroup
	}
	if !l.JSON() {
		return
	}
	vars["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
	vars["AWS_LAMBDA_LOG_LEVEL"] = levelOr(l.ApplicationLevel, "INFO")
}

func levelOr(l, def string) string {
	if l == "" {
		return def
	}
	return strings.ToUpper(l)
}

// appLevelOK reports whether a line of the function passes its
// ApplicationLogLevel.
func (f *fn) appLevelOK(line []byte) bool {
	if !f.jsonLogs() {
		return true
	}
	min := slices.Index(function.AppLevels, levelOr(f.def.Logging.ApplicationLevel, "INFO"))
	if min <= slices.Index(function.AppLevels, "INFO") && !bytes.HasPrefix(bytes.TrimSpace(line), []byte("{")) {
		return true
	}
	return lineLevel(line) >= min
}

// lineLevel is the index in function.AppLevels of a line's level: a JSON
// object's "level" (case does not matter; WARNING is WARN, CRITICAL is
// FATAL), else INFO.
func lineLevel(line []byte) int {
	info := slices.Index(function.AppLevels, "INFO")
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] != '{' {
		return info
	}
	var doc struct {
		Level string `json:"level"`
	}
	if json.Unmarshal(t, &doc) != nil {
		return info
	}
	lv := strings.ToUpper(doc.Level)
	switch lv {
	case "WARNING":
		lv = "WARN"
	case "CRITICAL":
		lv = "FATAL"
	}
	if i := slices.Index(function.AppLevels, lv); i >= 0 {
		return i
	}
	return info
}

// structuredLine reports whether a platform text line has a JSON
// platform.* event in its place.
func structuredLine(line string) bool {
	for _, p := range []string{"START RequestId: ", "END RequestId: ", "REPORT RequestId: ", "INIT_REPORT ", "INIT_START ", "EXTENSION\t", "TELEMETRY\t"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// systemLevelOK reports whether a platform event of type typ passes the
// function's SystemLogLevel.
func (f *fn) systemLevelOK(typ string) bool {
	level := "INFO"
	switch typ {
	case "platform.initRuntimeDone", "platform.runtimeDone":
		level = "DEBUG"
	case "platform.logsDropped":
		level = "WARN"
	}
	min := levelOr(f.def.Logging.SystemLevel, "INFO")
	return slices.Index(function.SystemLevels, level) >= slices.Index(function.SystemLevels, min)
}
