#!/bin/sh
# exposure.sh [SYSTEMD_VERSION] — compare systemd-analyze security --offline=yes
# exposure of one simple service under each of our profiles and under
# systemd's own (/usr/lib/systemd/portable/profile/*/service.conf), using this
# host's analyzer. Our profiles are rendered for SYSTEMD_VERSION (default: 252,
# Debian 12) by the same [>=N] / [<N] line tags that profiles.Builtin filters.
set -eu
version=${1:-252}
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

render() { # render FILE: keep untagged lines and tags true for $version
	awk -v v="$version" '
	/^\[>=[0-9]+\] / { n = substr($1, 4, length($1) - 4) + 0; if (v >= n) print substr($0, length($1) + 2); next }
	/^\[<[0-9]+\] /  { n = substr($1, 3, length($1) - 3) + 0; if (v <  n) print substr($0, length($1) + 2); next }
	{ print }' "$1"
}

score() { # score DROPIN: exposure of a simple service with DROPIN applied
	d=$work/u; rm -rf "$d"; mkdir -p "$d/simple.service.d"
	printf '[Service]\nExecStart=/usr/bin/simpled\nStateDirectory=simple\n' >"$d/simple.service"
	cp "$1" "$d/simple.service.d/10-profile.conf"
	systemd-analyze security --offline=yes --no-pager "$d/simple.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for simple.service: \([0-9.]*\).*/\1/p'
}

printf '%-10s %8s %8s\n' profile ours systemd
for p in default nonetwork strict trusted; do
	render "$here/profiles/$p/service.conf" >"$work/ours.conf"
	theirs=-
	if [ -f "/usr/lib/systemd/portable/profile/$p/service.conf" ]; then
		theirs=$(score "/usr/lib/systemd/portable/profile/$p/service.conf")
	fi
	printf '%-10s %8s %8s\n' "$p" "$(score "$work/ours.conf")" "$theirs"
done
