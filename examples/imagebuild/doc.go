// Package imagebuild assembles the example services' image trees and packs
// them in every format portable-generator reads, with the real tools:
// mksquashfs, mkfs.erofs, mkfs.ext4, systemd-repart, sfdisk and losetup.
//
// The just recipes (examples/examples.just, through cmd/mkimage), the
// integration suite and `just demo` all build their images here, so the
// image a person builds is the image the tests run.
//
// # Layout of an image tree
//
// An example is a directory examples/NAME holding a Go main package and its
// unit files. Its tree gets the static binary as /usr/bin/NAME, the unit
// files in /usr/lib/systemd/system, an os-release naming NAME as the
// portable prefix, and what systemd needs to start a service from a
// read-only image: /etc/resolv.conf, /etc/machine-id, the mount points
// /proc /sys /dev /run /tmp /var/tmp, and the directories the units'
// StateDirectory=, CacheDirectory=, LogsDirectory= and
// ConfigurationDirectory= name (PID 1 cannot create mount points in a
// read-only image).
//
// Building raw images needs root for the kinds made through loop devices
// (systemd-repart 252 formats partitions through one, and 4096-byte-sector
// images are partitioned on one).
package imagebuild
