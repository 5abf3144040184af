package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/portable-generator/portable-generator/generator"
)

// generatorVerb is generator mode: write the units into the first output
// directory, image by image as each is planned, within the run's deadline,
// then record the run in the state file. Exit 0 unless the output cannot be
// written: an image that cannot be attached is logged, never a failed boot.
func generatorVerb(inv *invocation) int {
	cfg, log := inv.config(), inv.logger()
	var boot *bootLog
	if inContainer(os.Getenv) {
		if kmsg, ok := log.Kmsg.(io.Closer); ok {
			kmsg.Close() // the host's, if any: not this container's journal
		}
		if j, err := openJournal(inv.journalSocket); err == nil {
			defer j.Close()
			log.Kmsg = j
		} else {
			boot = &bootLog{}
			log.Kmsg = boot
			defer func() { writeBootLog(inv.operands[0], boot, log) }()
		}
	}
	if why := generator.Disabled(cfg.Root, os.Getenv); why != "" {
		log.Logf(generator.LevelDebug, "doing nothing: %s", why)
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), generator.DefaultDeadline)
	defer cancel()
	normal := inv.operands[0]
	out, host, err := generator.GenerateInto(ctx, cfg, normal)
	if err != nil {
		log.Logf(generator.LevelErr, "cannot attach portable images (%s, %s): %v", cfg.Root, normal, err)
		return exitOK // nothing to attach; never fail the boot over it
	}
	generator.LogOutput(log, out)
	if err := generator.WriteState(cfg.Root, out, host, time.Now()); err != nil {
		log.Logf(generator.LevelWarning, "cannot record the run's verdicts: %v", err)
	}
	return exitOK
}

// writeBootLog adds portable-generator-log.service to the output when the
// boot run has lines for the container's journal (journal.go).
func writeBootLog(dir string, boot *bootLog, log *generator.Logger) {
	files := boot.unitFiles()
	if len(files) == 0 {
		return
	}
	if _, err := os.Lstat(filepath.Join(dir, bootLogUnit)); err == nil {
		return // never replace a unit of that name, whoever wrote it
	}
	log.Kmsg = nil // nothing logged from here on could be handed over
	if err := generator.Write(dir, files); err != nil {
		log.Logf(generator.LevelWarning, "cannot hand the log over to the journal: %v", err)
	}
}

// dryRunVerb prints the files generator mode would write, only the named
// images' when names are given. Every name must be an image found, and
// attached: otherwise there is nothing to show, and the exit says so.
func dryRunVerb(inv *invocation) int {
	cfg, log := inv.config(), inv.logger()
	out, _, err := inv.generate()
	if err != nil {
		inv.errorf("cannot read %s: %v", cfg.Root, err)
		return exitFailure
	}
	generator.LogOutput(log, out)
	status := exitOK
	for _, name := range inv.operands {
		reports := generator.ReportsOf(out.Reports, name)
		switch {
		case len(reports) == 0:
			inv.errorf("%s: no image of that name", name)
			status = exitFailure
		case reports[0].State != generator.StateAttached:
			inv.errorf("%s: not attached (%s); see: %s inspect %s", name, reports[0].State, program, name)
			status = exitFailure
		}
	}
	generator.WriteDryRun(inv.stdout, generator.FilesOf(out.Files, inv.operands))
	return status
}
