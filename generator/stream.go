package generator

import (
	"context"
	"fmt"

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
// winners are written. A kill at any moment therefore leaves whole images,
// or an image's units with their drop-ins, and never a unit without them.
func GenerateInto(ctx context.Context, cfg Config, dir string) (Output, *Inventory, error) {
	w, err := openOutput(dir)
	if err != nil {
		return Output{}, nil, err
	}
	defer w.close()
	w.noReplace = true
	s := &streamSink{w: w, dirs: w.newDirs(), owners: map[string][]*streamed{}}
	defer s.dirs.close()
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
	// written are the files on disk (paths and links, not their data),
	// for removal if the image loses a conflict later.
	written []File
	// contested: another image claims one of its names; it waits for the
	// end of the run if it was not written yet.
	contested bool
}

func (s *streamSink) add(p *plan.Planned) {
	e := &streamed{p: p}
	s.all = append(s.all, e)
	if p.Skipped() {
		return
	}
	for _, c := range p.Claims {
		for _, rival := range s.owners[c] {
			rival.contested = true
			e.contested = true
		}
		s.owners[c] = append(s.owners[c], e)
	}
	if !e.contested {
		s.write(e)
	}
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
			s.w.remove(e.p.Files[:i])
			e.p.Fail(fmt.Errorf("cannot write its files: %w", err))
			return
		}
	}
	e.written = make([]File, len(e.p.Files))
	for i, f := range e.p.Files {
		e.written[i] = File{Image: f.Image, Path: f.Path, Link: f.Link}
	}
	e.p.Files = nil // written: keep only what removal needs
}

// finish settles the contested images, removes the written losers, writes
// the pending winners, then the generator's own files.
func (s *streamSink) finish(extra []File) ([]*plan.Planned, []string) {
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
