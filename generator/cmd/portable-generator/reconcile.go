package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/portable-generator/portable-generator/generator/internal/reconcile"
)

const reconcileUsage = "usage: portable-generator reconcile [--dry-run]"

// reconcileCmd makes the running services match the generator's last run
// (after `systemctl daemon-reload`). dryRun is the global --dry-run, for
// `portable-generator --dry-run reconcile`.
func reconcileCmd(root string, dryRun bool, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, reconcileUsage)
		fmt.Fprintln(stderr, "After `systemctl daemon-reload`: stop the units of images that are gone or masked,\n"+
			"restart running units whose image or drop-ins changed, start units newly wanted\nby an active target; one line per unit.")
		fl.PrintDefaults()
	}
	fl.BoolVar(&dryRun, "dry-run", dryRun, "say what would be done; change nothing")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() != 0 {
		fmt.Fprintf(stderr, "portable-generator: reconcile takes no arguments\n%s\n", reconcileUsage)
		return 2
	}
	if root != "/" {
		fmt.Fprintln(stderr, "portable-generator: reconcile acts on the running system's services: --root is not supported")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := reconcile.Run(ctx, reconcile.Options{Root: root, DryRun: dryRun, Out: stdout,
		Connect: reconcile.Connect, Now: time.Now})
	if err != nil {
		fmt.Fprintf(stderr, "portable-generator: reconcile: %v\n", err)
		return 1
	}
	return 0
}
