#!/usr/bin/env bash
# Builds (once) a Debian 13 "trixie" tree for the second systemd the
# integration suite and the security scores run against (systemd 257), and
# prints its path. The tree is cached: a later call returns at once.
#
#   integration/trixie-tree.sh            # build if missing, print the path
#   PG_TRIXIE_TREE=/elsewhere integration/trixie-tree.sh
#
# The host stays Debian 12: debootstrap writes only into the tree, from the
# mirror apt is already configured with (debian-tree.sh).
set -euo pipefail
tree=${PG_TRIXIE_TREE:-/var/cache/portable-generator/trixie}
# What the suite needs inside the tree: a booting systemd with portablectl,
# systemd-dissect and systemd-repart, and the image tools of Debian 13
# (mkfs.erofs 1.8 makes lzma, deflate and zstd erofs).
include=systemd,systemd-sysv,dbus,systemd-container,systemd-repart,erofs-utils,squashfs-tools,e2fsprogs,fdisk,util-linux,iproute2,procps,kmod,gpg
exec bash "$(dirname "$0")/debian-tree.sh" "$tree" trixie "$include"
