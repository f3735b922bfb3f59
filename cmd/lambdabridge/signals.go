package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// secondSignal returns a context that ends when SIGINT or SIGTERM arrives
// again after ctx ended (main's ctx ends at the first): a shutdown in
// progress is then cut short instead of waiting out --drain-timeout. Call
// stop when the command ends.
func secondSignal(ctx context.Context) (cut context.Context, stop context.CancelFunc) {
	cut, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-ctx.Done():
		case <-cut.Done():
			return
		}
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		select {
		case <-ch:
			cancel()
		case <-cut.Done():
		}
	}()
	return cut, cancel
}
