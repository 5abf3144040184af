// Package reconcile makes the running services match what the generator
// last wrote, after a `systemctl daemon-reload`, the way portablectl's
// `reattach --now` and `detach --now` do for the images they attach:
//
//   - a unit whose image is gone or masked, or that the image's new version
//     no longer ships, is stopped (after the reload it would otherwise run
//     on as "active, not-found");
//   - a running unit whose output changed (a new image version or path, a
//     changed unit file or drop-in) is try-restarted, so it runs what the
//     generator now writes;
//   - a unit that an active unit newly wants through the enablement links
//     the generator wrote (Enable=yes) is started, as it would be at boot.
//
// The generator itself may not talk to PID 1 (generators run while PID 1
// waits for them), so this runs afterwards, from the `reconcile` verb.
//
// # What it compares
//
// "Changed" and "gone" are relative to the last reconcile, not to the last
// generator run: every reconcile records what it reconciled (a [Snapshot]:
// the units with their image and digest, and the enablement links) in
// /run/portable-generator/reconciled.json, and the next one compares the
// generator's newest state file with that record. Reloads in between, with
// no reconcile, are folded into one comparison. Without a record (the
// first reconcile of a boot) there is nothing to compare: the current state
// becomes the record and nothing is done, which is right when it runs at
// boot, before anyone changed an image; the shipped
// portable-generator-reconcile.service does that.
//
// # Layout
//
// [Decide] is pure: the record, the current snapshot and what PID 1 says
// about each unit in, the actions out; it is table-tested. [Run] reads the
// files, asks PID 1 through a [Manager] (D-Bus, in systemd.go), acts and
// writes the new record.
package reconcile
