//go:build !unix

package emf

import "time"

func cpuTime() time.Duration { return 0 }
