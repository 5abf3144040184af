#!/usr/bin/env bash
# The installed layout, in one place for `just install`, `just uninstall`
# and `just deb`:
#   layout.sh install DESTDIR BINARY MANDIR   lay the files out under DESTDIR
#   layout.sh uninstall DESTDIR               remove them
# DESTDIR is "" for the running system. MANDIR holds the built man pages.
set -euo pipefail
cd "$(dirname "$0")/.."

generator=usr/lib/systemd/system-generators/portable-generator
link=usr/bin/portable-generator
man8=usr/share/man/man8/portable-generator.8
man5=usr/share/man/man5/portable-generator.conf.5
bash_completion=usr/share/bash-completion/completions/portable-generator
zsh_completion=usr/share/zsh/vendor-completions/_portable-generator
unitdir=usr/lib/systemd/system
# The units shipped beside the generator (reconcile, the directory watch,
# sysupdate), none enabled: the admin enables what he wants.
units=(units/*.service units/*.path units/*.timer)

case "${1-}" in
install)
    dest=$2 binary=$3 mandir=$4
    # The program once, where systemd runs generators; the command admins
    # type is a link to it, so the two can never differ.
    install -D -m 0755 "$binary" "$dest/$generator"
    mkdir -p "$dest/$(dirname "$link")"
    ln -sfn "../lib/systemd/system-generators/portable-generator" "$dest/$link"
    install -D -m 0644 "$mandir/portable-generator.8" "$dest/$man8"
    install -D -m 0644 "$mandir/portable-generator.conf.5" "$dest/$man5"
    install -D -m 0644 dist/completions/portable-generator.bash "$dest/$bash_completion"
    install -D -m 0644 dist/completions/_portable-generator "$dest/$zsh_completion"
    for u in "${units[@]}"; do
        install -D -m 0644 "$u" "$dest/$unitdir/$(basename "$u")"
    done
    ;;
uninstall)
    dest=$2
    rm -f "$dest/$link" "$dest/$generator" "$dest/$man8" "$dest/$man5" "$dest/$man8.gz" "$dest/$man5.gz" \
        "$dest/$bash_completion" "$dest/$zsh_completion"
    for u in "${units[@]}"; do
        rm -f "$dest/$unitdir/$(basename "$u")"
    done
    ;;
*)
    echo "usage: $0 install DESTDIR BINARY MANDIR | uninstall DESTDIR" >&2
    exit 2
    ;;
esac
