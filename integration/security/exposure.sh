#!/bin/bash
# exposure.sh — the `systemd-analyze security --offline=yes` exposure of the
# example services (examples/*/*.service) under each of our profiles beside
# systemd's profile of the same name, judged by two analyzers: this host's
# (systemd 252, Debian 12) and systemd 257's from the trixie tree
# (integration/trixie-tree.sh, run there with chroot; needs root). Each
# analyzer judges our profiles rendered for its own systemd version (the
# [>=N] / [<N] line tags profiles.Builtin filters) and the profiles its own
# systemd ships. Each scored unit gets the drop-ins the generator writes: the
# profile as 10-profile.conf and RootImage= as 20-portable.conf.
#
# Exits 1 unless default, nonetwork and strict score strictly lower than
# systemd's for every example service under every analyzer that ran.
#
#   integration/security/exposure.sh            # both analyzers (257 if the tree is there)
#   PG_TRIXIE_TREE=/elsewhere integration/security/exposure.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
tree=${PG_TRIXIE_TREE:-/var/cache/portable-generator/trixie}
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
profiles=(default nonetwork strict trusted)
mapfile -t services < <(cd "$here" && ls examples/*/*.service)

render() { # render VERSION FILE: keep untagged lines and tags true for VERSION
	awk -v v="$1" '
	/^\[>=[0-9]+\] / { n = substr($1, 4, length($1) - 4) + 0; if (v >= n) print substr($0, length($1) + 2); next }
	/^\[<[0-9]+\] /  { n = substr($1, 3, length($1) - 3) + 0; if (v <  n) print substr($0, length($1) + 2); next }
	{ print }' "$2"
}

# stage ANALYZER VERSION PROFILEDIR: writes $work/ANALYZER/{ours,systemd}/PROFILE/UNIT
# with the unit and its two drop-ins.
stage() {
	local analyzer=$1 version=$2 theirs=$3 p s unit side
	for p in "${profiles[@]}"; do
		for side in ours systemd; do
			for s in "${services[@]}"; do
				unit=$(basename "$s")
				d=$work/$analyzer/$side/$p
				mkdir -p "$d/$unit.d"
				cp "$here/$s" "$d/$unit"
				if [ "$side" = ours ]; then
					render "$version" "$here/profiles/$p/service.conf" >"$d/$unit.d/10-profile.conf"
				elif [ -f "$theirs/$p/service.conf" ]; then
					cp "$theirs/$p/service.conf" "$d/$unit.d/10-profile.conf"
				else
					rm -rf "$d"
					continue
				fi
				printf '[Service]\nRootImage=/var/lib/portables/%s.raw\n' "${unit%.service}" >"$d/$unit.d/20-portable.conf"
			done
		done
	done
}

# score ANALYZER SIDE PROFILE UNIT: the overall exposure, or "-".
score() {
	local f=$1/$2/$3/$4 out
	if [ ! -f "$work/$f" ]; then echo -; return; fi
	if [ "$1" = 252 ]; then
		out=$(systemd-analyze security --offline=yes --no-pager "$work/$f" 2>/dev/null || true)
	else
		out=$(unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1" "$2/mnt" && chroot "$2" systemd-analyze security --offline=yes --no-pager "/mnt/$3"' \
			sh "$work" "$tree" "$f" 2>/dev/null || true)
	fi
	sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' <<<"$out"
}

analyzers=()
host_version=$(systemctl --version | awk 'NR == 1 { print $2 }')
stage 252 "$host_version" /usr/lib/systemd/portable/profile
analyzers+=(252)
if [ -e "$tree/.complete" ] && [ "$(id -u)" -eq 0 ]; then
	tree_version=$(chroot "$tree" systemctl --version | awk 'NR == 1 { print $2 }')
	stage 257 "$tree_version" "$tree/usr/lib/systemd/portable/profile"
	analyzers+=(257)
else
	echo "(no trixie tree at $tree, or not root: systemd 257's analyzer skipped)" >&2
fi

printf '%-10s %-24s' profile service
for a in "${analyzers[@]}"; do printf ' %9s %9s' "ours@$a" "systemd@$a"; done
printf '\n'
fail=0
for p in "${profiles[@]}"; do
	for s in "${services[@]}"; do
		unit=$(basename "$s")
		printf '%-10s %-24s' "$p" "$unit"
		for a in "${analyzers[@]}"; do
			ours=$(score "$a" ours "$p" "$unit")
			theirs=$(score "$a" systemd "$p" "$unit")
			printf ' %9s %9s' "$ours" "$theirs"
			if [ "$p" != trusted ] && ! awk -v o="$ours" -v t="$theirs" 'BEGIN { exit !(o != "" && t != "" && t != "-" && o + 0 < t + 0) }'; then
				fail=1
			fi
		done
		printf '\n'
	done
done
if [ "$fail" -ne 0 ]; then
	echo "FAIL: a profile does not score strictly lower than systemd's" >&2
	exit 1
fi
