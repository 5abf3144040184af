#!/usr/bin/env bash
# Builds (once) a Debian tree with debootstrap from the mirror apt is
# configured with, and prints its path. The tree is cached: a later call
# returns at once. The Debian 13 tree of the second systemd
# (trixie-tree.sh) and the trees of distribution packages run as portable
# services (README, "Running a distribution's package as a portable
# service") are made here:
#
#   integration/debian-tree.sh /var/cache/portable-generator/bookworm-redis-server bookworm redis-server
#
# Packages are installed exactly as Debian ships them. Afterwards the tree
# gets an empty /etc/machine-id (a machine that boots clean; a mount point
# for the profile's bind in an image) and /etc/resolv.conf if debootstrap
# left none, and loses apt's downloaded packages.
#
# The tree's .complete file records the suite and packages it was built
# with: a cached tree built from another list (a package added to the
# suite's needs since) is built again, so that no test finds a tree that
# silently lacks what it checks.
set -euo pipefail
tree=${1:?usage: debian-tree.sh DIR SUITE PACKAGE[,PACKAGE...]}
suite=${2:?usage: debian-tree.sh DIR SUITE PACKAGE[,PACKAGE...]}
include=${3:?usage: debian-tree.sh DIR SUITE PACKAGE[,PACKAGE...]}
built="$suite $include"
# The integration suite runs on both systemd versions at once, and both may
# ask for the same tree: one builds it, the other waits and finds it built.
# (Without root, and the tree's directory not ours, there is no lock to take,
# and nothing to build either: only a built tree is returned.)
if mkdir -p "$(dirname "$tree")" 2>/dev/null && { exec 9>"$tree.lock"; } 2>/dev/null; then
    flock 9
fi
if [ -e "$tree/.complete" ]; then
    if [ "$(cat "$tree/.complete")" = "$built" ]; then
        echo "$tree"
        exit 0
    fi
    echo "debian-tree.sh: $tree was built from another package list; building it again with $include" >&2
fi
if [ "$(id -u)" -ne 0 ]; then echo "debian-tree.sh: needs root (debootstrap)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "debian-tree.sh: debootstrap is not installed (just deps)" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$tree.tmp"
debootstrap --variant=minbase --include="$include" "$suite" "$tree.tmp" "$mirror" >&2 ||
    { echo "debian-tree.sh: debootstrap failed; see $tree.tmp/debootstrap/debootstrap.log" >&2; exit 1; }
: > "$tree.tmp/etc/machine-id"
[ -e "$tree.tmp/etc/resolv.conf" ] || : > "$tree.tmp/etc/resolv.conf"
rm -rf "$tree.tmp/var/cache/apt/archives/"*.deb
printf '%s\n' "$built" > "$tree.tmp/.complete"
rm -rf "$tree"
mv "$tree.tmp" "$tree"
echo "$tree"
