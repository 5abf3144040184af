#!/usr/bin/env bash
# Renders the man pages from their Markdown sources in dist/man:
#   man.sh OUTDIR   writes OUTDIR/portable-generator.8 and OUTDIR/portable-generator.conf.5
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
mkdir -p "$out"
for src in dist/man/*.md; do
    page=$out/$(basename "$src" .md)
    go-md2man -in "$src" -out "$page.tmp"
    # No hyphenation and no justification: paths and unit names stay whole,
    # so they can be copied from the page.
    sed -i '/^\.TH /a .nh\n.ad l' "$page.tmp"
    mv "$page.tmp" "$page"
done
