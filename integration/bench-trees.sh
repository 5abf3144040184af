#!/usr/bin/env bash
# Builds (once) the real package trees `just bench` makes its images from,
# and prints the directory holding them. Each tree is one Debian 12 server
# package with everything it depends on beyond the essential base (as
# `apt-get install --no-install-recommends` brings it into a minimal
# system), over the small runtime a portable image carries (base-files,
# libc6, libssl3, zlib, tzdata, netbase): 2,000 to 6,000 inodes each, as
# the packages ship them. The trees are cached: a later call returns at once.
#
#   integration/bench-trees.sh           # build if missing, print the path
#   PG_BENCH_TREES=/elsewhere integration/bench-trees.sh
#
# Packages come from the mirror apt is configured with, through a minimal
# Debian 12 made by debootstrap (kept beside the trees, for apt's
# dependency resolution); the host is not changed.
set -euo pipefail
out=${PG_BENCH_TREES:-/var/cache/portable-generator/bench-trees}
packages="nginx redis-server postgresql squid memcached haproxy bind9 apache2 dovecot-core openssh-server"
runtime="base-files libc6 libgcc-s1 libssl3 zlib1g tzdata netbase"
if [ -e "$out/.complete" ]; then
    echo "$out"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then echo "bench-trees.sh: needs root (debootstrap)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "bench-trees.sh: debootstrap is not installed (just deps)" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
base=$out/bookworm
mkdir -p "$out"
if [ ! -e "$base/.complete" ]; then
    rm -rf "$base"
    debootstrap --variant=minbase bookworm "$base" "$mirror" >&2 ||
        { echo "bench-trees.sh: debootstrap failed; see $base/debootstrap/debootstrap.log" >&2; exit 1; }
    touch "$base/.complete"
fi
cp /etc/resolv.conf "$base/etc/resolv.conf"
# shellcheck disable=SC2086
chroot "$base" apt-get install --download-only -y -qq --no-install-recommends $packages >&2
debs=$base/var/cache/apt/archives
for p in $packages; do
    tree=$out/$p
    rm -rf "$tree" "$tree.tmp"
    mkdir -p "$tree.tmp"
    closure=$(chroot "$base" apt-get install -s --no-install-recommends "$p" 2>/dev/null | awk '/^Inst/ {print $2}')
    for pkg in $runtime $closure; do
        deb=$(ls "$debs/${pkg%%:*}_"*.deb 2>/dev/null | head -n1 || true)
        [ -n "$deb" ] || { echo "bench-trees.sh: no .deb for $pkg" >&2; exit 1; }
        dpkg-deb -x "$deb" "$tree.tmp"
    done
    # What systemd needs to start a portable service from it.
    mkdir -p "$tree.tmp"/{proc,sys,dev,run,tmp,var/tmp}
    : > "$tree.tmp/etc/resolv.conf"
    : > "$tree.tmp/etc/machine-id"
    mv "$tree.tmp" "$tree"
    echo "bench-trees.sh: $p: $(find "$tree" | wc -l) inodes, $(du -sh "$tree" | cut -f1)" >&2
done
touch "$out/.complete"
echo "$out"
