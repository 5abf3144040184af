// Package integration runs portable-generator under a real systemd: the
// host's own OS booted in systemd-nspawn through an overlay, driven with
// nsenter. The tests carry the build tag "integration" and need root,
// systemd-nspawn and loop devices; `just integration` runs them.
package integration
