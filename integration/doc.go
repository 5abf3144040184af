// Package integration runs portable-generator under a real systemd: an OS
// tree booted in systemd-nspawn through an overlay, driven with nsenter.
// PG_INTEGRATION_TREE names the tree: this machine's own OS ("/", the
// default; systemd 252 on Debian 12) or a debootstrap tree such as the
// Debian 13 one integration/trixie-tree.sh builds (systemd 257). The tests
// carry the build tag "integration" and need root, systemd-nspawn and loop
// devices; `just integration` runs the suite once per tree, both at once.
//
// The images are the examples' (examples/counter, examples/greeter), built
// at test time by examples/imagebuild, the builder the just recipes use.
package integration
