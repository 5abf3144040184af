# portable-generator: every routine task, so the README, CI and people run the same commands.

set shell := ["bash", "-euo", "pipefail", "-c"]

export GOFLAGS := "-buildvcs=false"

# The Debian packages the tests and the demo need (image tools, systemd-nspawn, debootstrap; a C
# compiler for the race detector; gpg to sign the delivery test's manifests and xz, which a
# minimal Debian 12 lacks).
apt_packages := "gcc libc6-dev systemd-container squashfs-tools erofs-utils e2fsprogs fdisk dbus debootstrap btrfs-progs xfsprogs dosfstools f2fs-tools cryptsetup-bin util-linux openssl iproute2 go-md2man lintian zsh bash-completion gpg xz-utils zstd"

# Recipes kept beside the code they drive.
import? 'dissect/dissect.just'
import? 'dist/dist.just'
import? 'examples/examples.just'
import? 'integration/integration.just'
import? 'integration/bench.just'

default:
    @just --list

# Install what building and testing need: Debian packages and Go modules.
deps:
    #!/usr/bin/env bash
    set -euo pipefail
    missing=()
    for p in {{apt_packages}}; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then echo "need root to install: ${missing[*]}" >&2; exit 1; fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade --no-install-recommends "${missing[@]}"
    fi
    go mod download

# Build the generator binary into build/, carrying its version (dist/version.sh), static and
# stripped as the .deb ships it (dist/deb.sh).
build:
    mkdir -p build
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(dist/version.sh)" -o build/portable-generator ./generator/cmd/portable-generator

# Static checks: formatting and go vet.
check:
    test -z "$(gofmt -l $(git ls-files '*.go' | grep -v '^$' ; git ls-files --others --exclude-standard '*.go'))"
    go vet ./...

# No root needed; image tools are used when installed. With PG_REQUIRE_ALL=1 a missing tool, root
# or Debian 13 tree fails a test instead of skipping it.
# Unit tests, under the race detector.
unit:
    go test -race ./...

# Run every fuzz target for a bounded time each (CI: a short campaign on every run).
fuzz fuzztime="15s":
    #!/usr/bin/env bash
    set -euo pipefail
    for pkg in $(go list ./...); do
        for f in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
            echo "== $pkg $f ({{fuzztime}})"
            # Image inputs are large: go's default minutes of minimizing each new
            # input would leave almost no time for fuzzing.
            log=$(mktemp)
            if ! go test -run '^$' -fuzz "^$f\$" -fuzztime {{fuzztime}} -fuzzminimizetime 10x "$pkg" 2>&1 | tee "$log"; then
                # Go 1.26's coordinator can fail a target with a bare "context deadline
                # exceeded" as -fuzztime ends (go.dev/issue/75804, fixed in 1.27): no input
                # failed. A real finding always writes its input; anything else still fails.
                if grep -q 'context deadline exceeded' "$log" && ! grep -q -e 'Failing input written' -e 'panic:' "$log"; then
                    echo "== $f: the fuzzing engine's end-of-time race (go.dev/issue/75804), no failing input: not a finding"
                else
                    rm -f "$log"
                    exit 1
                fi
            fi
            rm -f "$log"
        done
    done

# With PG_REQUIRE_ALL=1 a test that lacks a tool, root or the Debian 13 tree fails instead of
# skipping; the tree is built (once) before any test needs it.
# Everything CI runs, strict: deps, the Debian 13 tree, checks, fuzzing, unit tests (-race), the .deb, integration.
test: deps
    #!/usr/bin/env bash
    set -euo pipefail
    export PG_REQUIRE_ALL=1
    bash integration/trixie-tree.sh > /dev/null
    just check
    just fuzz 10s
    just unit
    just deb
    just integration
