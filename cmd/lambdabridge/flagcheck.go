package main

import "github.com/lambdabridge/lambdabridge/config"

// checkFlag applies to a flag's value the check the configuration file
// applies to the same setting (config.CheckMemoryMB...): one rule, one
// text, e.g. "--memory: -5: Lambda allows 128..10240 MB" for the file's
// "functions[0].memory: -5: Lambda allows 128..10240 MB".
func checkFlag[T any](flag string, v T, check func(T) error) error {
	if err := check(v); err != nil {
		return usageErrorf("%s: %v", flag, err)
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// check applies the file's checks to the function flags given on the
// command line (run, invoke, compare).
func (f *funcFlags) check() error {
	var errs []error
	if f.set.memory {
		errs = append(errs, checkFlag("--memory", f.memory, config.CheckMemoryMB))
	}
	if f.set.timeout {
		errs = append(errs, checkFlag("--timeout", f.timeout, config.CheckTimeout))
	}
	return firstErr(errs...)
}

// check applies the file's checks to the runner flags of run.
func (v *runCommand) check() error {
	if v.invocations < 0 || v.rate < 0 {
		return usageErrorf("run: --invocations and --rate must not be negative")
	}
	return firstErr(
		v.fn.check(),
		checkFlag("--concurrency", v.concurrency, config.CheckConcurrency),
		checkFlag("--reserved-concurrency", v.reserved, config.CheckReservedConcurrency),
		checkFlag("--idle-timeout", v.idle, config.CheckIdleTimeout),
	)
}

// check applies the file's checks to the sink flags given on the command
// line (run, tail).
func (s *sinkFlags) check() error {
	var errs []error
	if s.set.rwInterval {
		errs = append(errs, checkFlag("--remote-write-interval", s.rwInterval, config.CheckRemoteWriteInterval))
	}
	errs = append(errs, checkFlag("--pushgateway-interval", s.pushInterval, config.CheckPushInterval))
	return firstErr(errs...)
}
