// Command treehelper is a lambdabridge stand-in for the runner's process
// tree test: it runs the bootstrap given as its argument, invokes it with
// {"action":"spawn"}, prints the response (the pids of the function's
// process and of its children) and waits to be killed.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/runner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "treehelper:", err)
		os.Exit(1)
	}
	select {}
}

func run() error {
	d, err := function.FromHandler(os.Args[1], function.WithName("tree"))
	if err != nil {
		return err
	}
	r, err := runner.New([]function.Definition{d}, runner.WithCgroups(os.Getenv("TREEHELPER_CGROUPS") != "off"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := r.Invoke(ctx, "tree", runner.Request{Payload: []byte(`{"action":"spawn"}`)})
	if err != nil {
		return err
	}
	if res.Failed() {
		return fmt.Errorf("spawn failed: %s", res.Payload)
	}
	fmt.Printf("%s\n", res.Payload)
	return nil
}
