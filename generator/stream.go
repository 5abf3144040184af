package generator

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/portable-generator/portable-generator/generator/internal/plan"
)

// GenerateInto is the generator as systemd runs it: it plans the images and
// writes each image's files into dir as soon as the image is planned, so
// memory is bounded by the images in flight and whatever is done when ctx
// ends (the run's deadline) is already written. The Output it returns has
// the reports, not the files.
//
// An image whose unit names another image also claims is not written at
// once: such contested images wait for the end of the run, where conflicts
// are settled over all of them exactly as for an answer in memory, an image
// already written that lost is removed (units before their drop-ins) and the
// winners are read again and written (while they wait, only their reports
// and claims are kept, so that memory stays bounded however many images
// claim a name). A kill at any moment therefore leaves whole images,
// or an image's units with their drop-ins, and never a unit without them.
func GenerateInto(ctx context.Context, cfg Config, dir string) (Output, *Inventory, error) {
	w, err := openOutput(dir)
	if err != nil {
		return Output{}, nil, err
	}
	defer w.close()
	w.noReplace = true
	s := &streamSink{w: w, dirs: w.newDirs(), owners: map[string][]*streamed{}}
	defer s.dirs.release()
	return run(ctx, cfg, s)
}

// streamSink writes planned images as they come.
type streamSink struct {
	w      *writer
	dirs   *dirs
	all    []*streamed
	owners map[string][]*streamed // unit name -> the images that claim it
}

// streamed is one image's progress through the sink.
type streamed struct {
	p *plan.Planned
	// written are the paths of the files on disk, for removal if the
	// image loses a conflict later (paths alone: a run keeps them for
	// every image to its end).
	written []string
	// contested: another image claims one of its names; it waits for the
	// end of the run if it was not written yet.
	contested bool
	// replan reads and plans the image again, for a contested image not
	// written: its files are let go of while it waits.
	replan func() *plan.Planned
}

func (s *streamSink) add(p *plan.Planned, replan func() *plan.Planned) {
	e := &streamed{p: p}
	s.all = append(s.all, e)
	if p.Skipped() {
		return
	}
	for _, c := range p.Claims {
		// The first claimant of a name is marked when a second comes;
		// every later one was marked as it came: marking the first is
		// enough, and costs the same however many claim the name.
		if rivals := s.owners[c]; len(rivals) > 0 {
			rivals[0].contested = true
			e.contested = true
		}
		s.owners[c] = append(s.owners[c], e)
	}
	if !e.contested {
		s.write(e)
		return
	}
	// Waiting for the end of the run, the image keeps what settling needs
	// (its report and claims), not its files: any number of images can
	// claim one name, each with up to dissect's per-image bytes of unit
	// files, and memory must stay bounded by the images in flight. A
	// winner is read again before it is written.
	e.p.Files = nil
	e.replan = replan
}

// errChangedDuringRun is a contested image that, read again to be written
// after it won, no longer plans as it did: it changed while the run read
// it.
var errChangedDuringRun = errors.New("it changed while this run read it (it won a unit name another image claims, and was read again to be written): not attached in this run; the next reload reads it again")

// replanned reads a contested image that won again, for its files. The
// second reading must plan the same image with the same names, or the
// settling that made it the winner no longer holds, the same units (the
// report keeps the first reading's Units, and Digests, taken from the
// second, are in the order of Units), and with the same
// grants and profile: the run records the first reading's (the state
// file, KeepUnit, decided before the end), and the files written are the
// second's.
func (s *streamSink) replanned(e *streamed, overdue func() error) error {
	if err := overdue(); err != nil {
		return err
	}
	again, was := e.replan(), e.p
	if again.Skipped() || again.Report.Path != was.Report.Path || !slices.Equal(again.Claims, was.Claims) ||
		!slices.Equal(again.Report.Units, was.Report.Units) ||
		!slices.Equal(again.Report.Grants, was.Report.Grants) || again.KeepsGrants() != was.KeepsGrants() ||
		again.Report.Profile != was.Report.Profile {
		return errChangedDuringRun
	}
	e.p.Files = again.Files
	e.p.Report.Digests = again.Report.Digests
	return nil
}

func (s *streamSink) keepsGrants() bool {
	for _, e := range s.all {
		if e.p.KeepsGrants() {
			return true
		}
	}
	return false
}

// write puts one image's files on disk, or, when that fails, takes away
// what it wrote and skips the image with the reason.
func (s *streamSink) write(e *streamed) {
	defer s.dirs.release()
	for i, f := range e.p.Files {
		if err := s.w.one(f, s.dirs); err != nil {
			err = fmt.Errorf("cannot write its files: %w", err)
			if rmErr := s.w.remove(filePaths(e.p.Files[:i])); rmErr != nil {
				// The image is skipped but some of its files stay in
				// the output: the report that names it must say so.
				err = fmt.Errorf("%w; and cannot take back those written: %v", err, rmErr)
			}
			e.p.Fail(err)
			return
		}
	}
	e.written = filePaths(e.p.Files)
	e.p.Files = nil // written: keep only what removal needs
}

// finish settles the contested images, removes the written losers, writes
// the pending winners, then the generator's own files.
func (s *streamSink) finish(overdue func() error, extra []File) ([]*plan.Planned, []string) {
	var contested []*plan.Planned
	byPlan := map[*plan.Planned]*streamed{}
	for _, e := range s.all {
		if e.contested {
			contested = append(contested, e.p)
			byPlan[e.p] = e
		}
	}
	plan.SettleConflicts(contested)
	var warnings []string
	for _, p := range contested {
		if e := byPlan[p]; p.Skipped() && e.written != nil {
			if err := s.w.remove(e.written); err != nil {
				warnings = append(warnings, fmt.Sprintf("%s: cannot take back the files of an image that lost a conflict: %v", p.Report.Name, err))
			}
			e.written = nil
		}
	}
	for _, p := range contested {
		if e := byPlan[p]; !p.Skipped() && e.written == nil {
			if err := s.replanned(e, overdue); err != nil {
				p.Fail(err)
				continue
			}
			s.write(e)
		}
	}
	for _, f := range extra {
		if err := s.w.one(f, s.dirs); err != nil {
			warnings = append(warnings, fmt.Sprintf("cannot write %s: %v", f.Path, err))
		}
	}
	out := make([]*plan.Planned, len(s.all))
	for i, e := range s.all {
		out[i] = e.p
	}
	return out, warnings
}

func filePaths(files []File) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}
