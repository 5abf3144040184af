#!/bin/sh
# The version a build carries (portable-generator --version).
#   version.sh            the VCS tag when one reaches HEAD (v1.2 -> 1.2, with
#                         git describe's distance and commit past it), else the
#                         upstream version of debian/changelog and the commit
#   version.sh --package  the package's version: debian/changelog's, exactly
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
package=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/dist/debian/changelog")
if [ "${1-}" = --package ]; then
    echo "$package"
    exit 0
fi
if tag=$(git -C "$top" describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
    echo "${tag#v}"
    exit 0
fi
upstream=${package%-*}
if commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null); then
    git -C "$top" diff --quiet HEAD 2>/dev/null || commit=$commit.dirty
    echo "$upstream+git.$commit"
else
    echo "$upstream"
fi
