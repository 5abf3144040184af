package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	sd "github.com/coreos/go-systemd/v22/dbus"
)

// Manager is what reconcile needs from PID 1.
type Manager interface {
	// Units reports the named units (PID 1 answers for every name, as
	// not-found and inactive for a unit it does not know).
	Units(ctx context.Context, names []string) (map[string]Live, error)
	// Instances reports the loaded instances of the templates
	// (foo@.service → foo@a.service, …).
	Instances(ctx context.Context, templates []string) (map[string]Live, error)
	// Triggers lists the units a socket, timer or path unit activates.
	Triggers(ctx context.Context, unit string) ([]string, error)
	// Do queues op for every unit at once, waits for the jobs, and
	// returns the failures by unit.
	Do(ctx context.Context, op Op, units []string) map[string]error
	Close()
}

// ErrJob is a job that did not end with "done".
var ErrJob = errors.New("job failed")

// bus is a Manager over systemd's D-Bus API.
type bus struct{ c *sd.Conn }

// Connect reaches PID 1 over the system bus, or as root over its private
// socket when the bus is not up.
func Connect(ctx context.Context) (Manager, error) {
	c, err := sd.NewWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd: %w", err)
	}
	// Subscribed, PID 1 sends this connection every JobRemoved signal,
	// whichever bus it came over: that is how Do learns the results.
	if err := c.Subscribe(); err != nil {
		c.Close()
		return nil, fmt.Errorf("subscribe to systemd's signals: %w", err)
	}
	return bus{c}, nil
}

func (b bus) Close() { b.c.Close() }

func liveOf(us []sd.UnitStatus) map[string]Live {
	out := make(map[string]Live, len(us))
	for _, u := range us {
		out[u.Name] = Live{Load: u.LoadState, Active: u.ActiveState}
	}
	return out
}

func (b bus) Units(ctx context.Context, names []string) (map[string]Live, error) {
	if len(names) == 0 {
		return map[string]Live{}, nil
	}
	us, err := b.c.ListUnitsByNamesContext(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("ListUnitsByNames: %w", err)
	}
	return liveOf(us), nil
}

func (b bus) Instances(ctx context.Context, templates []string) (map[string]Live, error) {
	if len(templates) == 0 {
		return map[string]Live{}, nil
	}
	patterns := make([]string, len(templates))
	for i, t := range templates {
		// foo@.service → foo@*.service (PID 1 matches without escapes,
		// so a \x2d in a name is literal).
		patterns[i] = strings.Replace(t, "@.", "@*.", 1)
	}
	us, err := b.c.ListUnitsByPatternsContext(ctx, nil, patterns)
	if err != nil {
		return nil, fmt.Errorf("ListUnitsByPatterns: %w", err)
	}
	return liveOf(us), nil
}

func (b bus) Triggers(ctx context.Context, unit string) ([]string, error) {
	p, err := b.c.GetUnitPropertyContext(ctx, unit, "Triggers")
	if err != nil {
		return nil, fmt.Errorf("%s: Triggers: %w", unit, err)
	}
	ts, ok := p.Value.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("%s: Triggers is %s, not a list of names", unit, p.Value.Signature())
	}
	return ts, nil
}

func (b bus) Do(ctx context.Context, op Op, units []string) map[string]error {
	queue := map[Op]func(context.Context, string, string, chan<- string) (int, error){
		Stop:       b.c.StopUnitContext,
		TryRestart: b.c.TryRestartUnitContext,
		Start:      b.c.StartUnitContext,
	}[op]
	failed := map[string]error{}
	if queue == nil {
		return failed
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, u := range units {
		done := make(chan string, 1)
		// "replace": like systemctl, a conflicting queued job is replaced.
		if _, err := queue(ctx, u, "replace", done); err != nil {
			failed[u] = err
			continue
		}
		wg.Add(1)
		go func(u string) {
			defer wg.Done()
			var err error
			select {
			case r := <-done:
				if r != "done" {
					err = fmt.Errorf("%w: %s", ErrJob, r)
				}
			case <-ctx.Done():
				err = ctx.Err()
			}
			if err != nil {
				mu.Lock()
				failed[u] = err
				mu.Unlock()
			}
		}(u)
	}
	wg.Wait()
	return failed
}
