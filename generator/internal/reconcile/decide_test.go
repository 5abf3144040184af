package reconcile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	v1 = "/var/lib/portables/foo_1.raw"
	v2 = "/var/lib/portables/foo_2.raw"
)

// snap builds a snapshot: units as NAME → Unit, images as NAME → status.
func snap(units map[string]Unit, images map[string]ImageStatus, wants map[string][]string) *Snapshot {
	if units == nil {
		units = map[string]Unit{}
	}
	if images == nil {
		images = map[string]ImageStatus{}
	}
	return &Snapshot{Units: units, Images: images, Wants: wants}
}

func foo(path, digest string) Unit { return Unit{Image: "foo", Path: path, Digest: digest} }

var (
	running  = Live{Load: "loaded", Active: "active"}
	stopped  = Live{Load: "loaded", Active: "inactive"}
	notFound = Live{Load: "not-found", Active: "active"}
	attached = func(path string) map[string]ImageStatus {
		return map[string]ImageStatus{"foo": {State: "attached", Path: path}}
	}
	multiUser = map[string][]string{"foo.service": {"multi-user.target"}}
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur *Snapshot
		live      map[string]Live
		want      []Action
	}{{
		// Nothing changed: nothing to say about a running unit.
		name: "unchanged",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, multiUser),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "a")}, attached(v1), multiUser),
		live: map[string]Live{"foo.service": running, "multi-user.target": running},
	}, {
		// foo_2.raw beside foo_1.raw: the running unit is restarted from
		// version 2, and the line names both.
		name: "upgrade restarts a running unit",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v2, "b")}, attached(v2), nil),
		live: map[string]Live{"foo.service": running},
		want: []Action{{"foo.service", TryRestart, "now from " + v2 + " (was " + v1 + ")"}},
	}, {
		// The same path with another digest: the file was replaced or a
		// drop-in changed.
		name: "changed in place",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "b")}, attached(v1), nil),
		live: map[string]Live{"foo.service": running},
		want: []Action{{"foo.service", TryRestart, "changed (its unit file, drop-ins or the image file " + v1 + ")"}},
	}, {
		// A changed unit that is not running stays stopped: try-restart,
		// not restart.
		name: "changed but stopped",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v2, "b")}, attached(v2), nil),
		live: map[string]Live{"foo.service": stopped},
		want: []Action{{"foo.service", None, "now from " + v2 + " (was " + v1 + "); not running"}},
	}, {
		// The upgrade dropped foo-old.service and added foo-new.service
		// (enabled): the old one is stopped, the new one started, stops
		// first.
		name: "upgrade with a dropped and an added unit",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a"), "foo-old.service": foo(v1, "o")}, nil, multiUser),
		cur: snap(map[string]Unit{"foo.service": foo(v2, "b"), "foo-new.service": foo(v2, "n")}, attached(v2),
			map[string][]string{"foo.service": {"multi-user.target"}, "foo-new.service": {"multi-user.target"}}),
		live: map[string]Live{"foo.service": running, "foo-old.service": notFound, "foo-new.service": stopped,
			"multi-user.target": running},
		want: []Action{
			{"foo-old.service", Stop, v2 + " does not ship it"},
			{"foo.service", TryRestart, "now from " + v2 + " (was " + v1 + ")"},
			{"foo-new.service", Start, "new from " + v2 + ", wanted by multi-user.target"},
		},
	}, {
		// A dropped unit that was not running only gets its line.
		name: "dropped, not running",
		prev: snap(map[string]Unit{"foo-old.service": foo(v1, "o")}, nil, nil),
		cur:  snap(nil, attached(v2), nil),
		live: map[string]Live{"foo-old.service": {Load: "not-found", Active: "inactive"}},
		want: []Action{{"foo-old.service", None, v2 + " does not ship it; not running"}},
	}, {
		// A new unit nobody wants is not started (portablectl attach
		// without --now does not start either).
		name: "new, not enabled",
		prev: snap(nil, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "a")}, attached(v1), nil),
		live: map[string]Live{"foo.service": stopped},
		want: []Action{{"foo.service", None, "new from " + v1 + ", not enabled (start it with: systemctl start foo.service)"}},
	}, {
		// A new service its socket starts is not "not enabled".
		name: "new, started by its socket",
		prev: snap(nil, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "a"), "foo.socket": foo(v1, "s")}, attached(v1), nil),
		live: map[string]Live{"foo.service": stopped, "foo.socket": stopped},
		want: []Action{
			{"foo.service", None, "new from " + v1 + ", started by foo.socket"},
			{"foo.socket", None, "new from " + v1 + ", not enabled (start it with: systemctl start foo.socket)"},
		},
	}, {
		// Wanted by a target that is not active: not started (it starts
		// with the target).
		name: "new, wanted by an inactive target",
		prev: snap(nil, nil, nil),
		cur: snap(map[string]Unit{"foo.service": foo(v1, "a")}, attached(v1),
			map[string][]string{"foo.service": {"graphical.target"}}),
		live: map[string]Live{"foo.service": stopped, "graphical.target": {Load: "loaded", Active: "inactive"}},
		want: []Action{{"foo.service", None, "new from " + v1 + ", not enabled (start it with: systemctl start foo.service)"}},
	}, {
		// Someone started the new unit before reconcile ran: it runs the
		// new output already.
		name: "new, already running",
		prev: snap(nil, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "a")}, attached(v1), multiUser),
		live: map[string]Live{"foo.service": running, "multi-user.target": running},
		want: []Action{{"foo.service", None, "new from " + v1 + ", already running"}},
	}, {
		// The admin masked the unit: never started.
		name: "new and wanted, but masked",
		prev: snap(nil, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "a")}, attached(v1), multiUser),
		live: map[string]Live{"foo.service": {Load: "masked", Active: "inactive"}, "multi-user.target": running},
		want: []Action{{"foo.service", None, "new from " + v1 + ", masked"}},
	}, {
		// Enable=yes turned on for an unchanged unit the admin had not
		// started: the new link makes it start.
		name: "newly wanted",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(map[string]Unit{"foo.service": foo(v1, "a")}, attached(v1), multiUser),
		live: map[string]Live{"foo.service": stopped, "multi-user.target": running},
		want: []Action{{"foo.service", Start, "newly wanted by multi-user.target"}},
	}, {
		// Wanted before and stopped by the admin: an upgrade does not
		// start it again.
		name: "stopped on purpose stays stopped across an upgrade",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, multiUser),
		cur:  snap(map[string]Unit{"foo.service": foo(v2, "b")}, attached(v2), multiUser),
		live: map[string]Live{"foo.service": stopped, "multi-user.target": running},
		want: []Action{{"foo.service", None, "now from " + v2 + " (was " + v1 + "); not running"}},
	}, {
		// The image file was removed.
		name: "image gone",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(nil, nil, nil),
		live: map[string]Live{"foo.service": notFound},
		want: []Action{{"foo.service", Stop, "image foo is gone (was " + v1 + ")"}},
	}, {
		// A /dev/null symlink masks the image.
		name: "image masked",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(nil, map[string]ImageStatus{"foo": {State: "masked", Path: "/etc/portables/foo.raw"}}, nil),
		live: map[string]Live{"foo.service": notFound},
		want: []Action{{"foo.service", Stop, "image foo is masked by /etc/portables/foo.raw"}},
	}, {
		// The image is skipped now (a bad setting, a refusal): the running
		// service is kept, with the reason and how to stop it.
		name: "image skipped keeps the service",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur: snap(nil, map[string]ImageStatus{"foo": {State: "skipped", Path: v1,
			Reasons: []string{`unknown profile "stirct"`}}}, nil),
		live: map[string]Live{"foo.service": notFound},
		want: []Action{{"foo.service", Keep, `image foo is skipped now: unknown profile "stirct"; still running from ` +
			v1 + " (stop it with: systemctl stop foo.service)"}},
	}, {
		// The image went away and a host unit of the same name is loaded
		// now: that unit is not ours to stop.
		name: "taken over by a host unit",
		prev: snap(map[string]Unit{"foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(nil, nil, nil),
		live: map[string]Live{"foo.service": running},
		want: []Action{{"foo.service", None, "image foo is gone (was " + v1 + "); the name is now loaded from elsewhere, left alone"}},
	}, {
		// A changed socket whose service runs is not restarted: PID 1
		// would refuse to start it again while the service runs.
		name: "socket with its service running",
		prev: snap(map[string]Unit{"foo.socket": foo(v1, "s"), "foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(map[string]Unit{"foo.socket": foo(v2, "t"), "foo.service": foo(v2, "b")}, attached(v2), nil),
		live: map[string]Live{"foo.socket": {Load: "loaded", Active: "active", Triggers: []string{"foo.service"}},
			"foo.service": running},
		want: []Action{
			{"foo.service", TryRestart, "now from " + v2 + " (was " + v1 + ")"},
			{"foo.socket", Keep, "now from " + v2 + " (was " + v1 + "); not restarted while foo.service runs (restart it after stopping foo.service)"},
		},
	}, {
		// A changed socket whose service is idle is restarted.
		name: "socket with its service idle",
		prev: snap(map[string]Unit{"foo.socket": foo(v1, "s"), "foo.service": foo(v1, "a")}, nil, nil),
		cur:  snap(map[string]Unit{"foo.socket": foo(v2, "t"), "foo.service": foo(v2, "b")}, attached(v2), nil),
		live: map[string]Live{"foo.socket": {Load: "loaded", Active: "active", Triggers: []string{"foo.service"}},
			"foo.service": stopped},
		want: []Action{
			{"foo.socket", TryRestart, "now from " + v2 + " (was " + v1 + ")"},
			{"foo.service", None, "now from " + v2 + " (was " + v1 + "); not running"},
		},
	}, {
		// The template is gone: its running instances are stopped, the
		// template itself is never acted on.
		name: "template gone",
		prev: snap(map[string]Unit{"foo@.service": foo(v1, "a")}, nil, nil),
		cur:  snap(nil, nil, nil),
		live: map[string]Live{"foo@a.service": notFound, "foo@b.service": {Load: "not-found", Active: "failed"}},
		want: []Action{
			{"foo@a.service", Stop, "image foo is gone (was " + v1 + ")"},
			{"foo@b.service", None, "image foo is gone (was " + v1 + "); not running"},
		},
	}, {
		// A changed template restarts its running instances; an instance
		// its DefaultInstance= link wants starts.
		name: "template changed, instance newly wanted",
		prev: snap(map[string]Unit{"foo@.service": foo(v1, "a")}, nil, nil),
		cur: snap(map[string]Unit{"foo@.service": foo(v2, "b")}, attached(v2),
			map[string][]string{"foo@main.service": {"multi-user.target"}}),
		live: map[string]Live{"foo@a.service": running, "foo@main.service": stopped, "multi-user.target": running},
		want: []Action{
			{"foo@a.service", TryRestart, "now from " + v2 + " (was " + v1 + ")"},
			{"foo@main.service", Start, "now from " + v2 + " (was " + v1 + "), and newly wanted by multi-user.target"},
		},
	}, {
		// A unit that moved to another image (the clash winner changed)
		// restarts from its new image.
		name: "moved to another image",
		prev: snap(map[string]Unit{"foo-web.service": foo(v1, "a")}, nil, nil),
		cur: snap(map[string]Unit{"foo-web.service": {Image: "foo-web", Path: "/var/lib/portables/foo-web.raw", Digest: "c"}},
			map[string]ImageStatus{"foo": {State: "attached", Path: v1}, "foo-web": {State: "attached", Path: "/var/lib/portables/foo-web.raw"}}, nil),
		live: map[string]Live{"foo-web.service": running},
		want: []Action{{"foo-web.service", TryRestart, "now from /var/lib/portables/foo-web.raw (was " + v1 + ")"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.prev, tc.cur, tc.live)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"foo.service":            "foo.service",
		"foo@.service":           "foo@.service",
		"foo@a.service":          "foo@.service",
		"foo@a.b.service":        "foo@.service",
		"foo-bar@x-y.z.timer":    "foo-bar@.timer",
		"multi-user.target":      "multi-user.target",
		"weird@name-without-dot": "weird@name-without-dot",
	} {
		if got := template(in); got != want {
			t.Errorf("template(%q) = %q, want %q", in, got, want)
		}
	}
}
