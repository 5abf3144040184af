package main

import (
	"context"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/portable-generator/portable-generator/generator/internal/reconcile"
)

// reconcileVerb makes the running services match the generator's last run
// (after `systemctl daemon-reload`).
func reconcileVerb(inv *invocation) int {
	if inv.root != "/" {
		inv.errorf("reconcile acts on the running system's services: --root is not supported")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := reconcile.Run(ctx, reconcile.Options{Root: inv.root, DryRun: inv.dryRun, Out: inv.stdout,
		Connect: reconcile.Connect, Now: time.Now})
	if err != nil {
		// The package's sentinels already say "reconcile: ".
		inv.errorf("reconcile: %s", strings.TrimPrefix(err.Error(), "reconcile: "))
		return exitFailure
	}
	return exitOK
}
