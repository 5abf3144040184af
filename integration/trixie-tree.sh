#!/usr/bin/env bash
# Builds (once) a Debian 13 "trixie" tree for the second systemd the
# integration suite and the security scores run against (systemd 257), and
# prints its path. The tree is cached: a later call returns at once.
#
#   integration/trixie-tree.sh            # build if missing, print the path
#   PG_TRIXIE_TREE=/elsewhere integration/trixie-tree.sh
#
# The host stays Debian 12: debootstrap writes only into the tree, from the
# mirror apt is already configured with.
set -euo pipefail
tree=${PG_TRIXIE_TREE:-/var/cache/portable-generator/trixie}
# What the suite needs inside the tree: a booting systemd with portablectl,
# systemd-dissect and systemd-repart, and the image tools of Debian 13
# (mkfs.erofs 1.8 makes lzma, deflate and zstd erofs).
include=systemd,systemd-sysv,dbus,systemd-container,systemd-repart,erofs-utils,squashfs-tools,e2fsprogs,fdisk,util-linux,iproute2,procps,kmod
if [ -e "$tree/.complete" ]; then
    echo "$tree"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then echo "trixie-tree.sh: needs root (debootstrap)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "trixie-tree.sh: debootstrap is not installed (just deps)" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$tree.tmp"
mkdir -p "$(dirname "$tree")"
debootstrap --variant=minbase --include="$include" trixie "$tree.tmp" "$mirror" >&2 ||
    { echo "trixie-tree.sh: debootstrap failed; see $tree.tmp/debootstrap/debootstrap.log" >&2; exit 1; }
# A machine that boots clean in nspawn: no machine-id yet, no apt caches.
: > "$tree.tmp/etc/machine-id"
rm -rf "$tree.tmp/var/cache/apt/archives/"*.deb
touch "$tree.tmp/.complete"
rm -rf "$tree"
mv "$tree.tmp" "$tree"
echo "$tree"
