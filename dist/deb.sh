#!/usr/bin/env bash
# Builds the Debian package by hand with dpkg-deb (see dist.just for why):
#   deb.sh OUTDIR MANDIR     writes OUTDIR/portable-generator_VERSION_ARCH.deb
# and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1 mandir=$2

version=$(dist/version.sh --package)
arch=$(dpkg --print-architecture)
maintainer=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' dist/debian/changelog | head -1)
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

# Static, as every build of the project is (nothing to load at early boot),
# and stripped: Debian ships no debug symbols in the package itself.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out/portable-generator" ./generator/cmd/portable-generator
dist/layout.sh install "$stage" "$out/portable-generator" "$mandir"
gzip -9n "$stage/usr/share/man/man8/portable-generator.8" "$stage/usr/share/man/man5/portable-generator.conf.5"

# Reference copies of the built-in profiles, rendered for the systemd of
# the release the package is built on.
systemd=$(systemctl --version | awk 'NR == 1 { print $2 }')
go run ./dist/profiles -systemd-version "$systemd" "$stage/usr/share/portable-generator/profiles"

# Go links statically; lintian exempts Go binaries only through a source
# package's Build-Depends on golang-go, which a dpkg-deb build has none of.
install -D -m 0644 dist/debian/lintian-overrides "$stage/usr/share/lintian/overrides/portable-generator"

doc=$stage/usr/share/doc/portable-generator
install -D -m 0644 README.md "$doc/README.md"
gzip -9n "$doc/README.md"
gzip -9nc dist/debian/changelog > "$doc/changelog.Debian.gz"
# The copyright file: ours, then one stanza per Go module linked into the
# binary, with the license text from the module cache.
{
    cat dist/debian/copyright
    go version -m "$out/portable-generator" | awk '$1 == "dep" { print $2, $3 }' | while read -r mod ver; do
        dir=$(go list -m -f '{{.Dir}}' "$mod@$ver")
        license=$(ls "$dir" | grep -i -m1 -E '^(license|copying)(\.md|\.txt)?$')
        printf '\nFiles: %s\nComment: Go module %s %s, linked into the binary.\nLicense: %s\n' "$mod/*" "$mod" "$ver" "$mod"
        # Debian keeps the Apache License 2.0 once, in common-licenses: a
        # full copy of its terms is replaced by a pointer there.
        awk '/^[[:space:]]*Apache License[[:space:]]*$/ { skip = 1; print "Apache License 2.0: on Debian systems, the full text is in /usr/share/common-licenses/Apache-2.0."; next }
             skip && /END OF TERMS AND CONDITIONS/ { skip = 0; next }
             !skip' "$dir/$license" | sed 's/^[[:space:]]*$/./; s/^/ /'
    done
    gover=$(go env GOROOT)
    printf '\nFiles: go/*\nComment: The Go standard library and runtime %s, linked into the binary.\nLicense: Go\n' "$(go env GOVERSION)"
    sed 's/^[[:space:]]*$/./; s/^/ /' "$gover/LICENSE"
} > "$doc/copyright"
chmod 0644 "$doc/copyright"

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: portable-generator
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: systemd (>= 252)
Section: admin
Priority: optional
Description: attach systemd portable service images by their presence
 A systemd generator: at boot and at every daemon-reload it reads the
 portable service images in /etc/portables, /run/portables,
 /var/lib/portables, /usr/local/lib/portables and /usr/lib/portables
 without mounting them, and writes their units, each with a sandbox
 profile, into /run/systemd/generator. Copy an image in and reload: its
 services are there; remove it and reload: they are gone.
 .
 The portable-generator command shows why each image was or was not
 attached (list, inspect), the files it would write (--dry-run), and what
 its image reader sees in an image (dissect).
CONTROL
install -m 0755 dist/debian/postinst dist/debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
# Directories 0755 and files 0644 whatever the umask, as dpkg-deb expects.
find "$stage" -type d -exec chmod 0755 {} +

deb=$out/portable-generator_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
