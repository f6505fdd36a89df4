#!/usr/bin/env bash
# Build the DataDSN image with podman, from Debian's mirror only: no Docker Hub.
#
#   scripts/build-image.sh [TAG]          default TAG: localhost/datadsn:latest
#
# Without BASE, a Debian bookworm root filesystem with Python 3.11 is made by debootstrap from
# DEBIAN_MIRROR and imported as localhost/datadsn-base:bookworm (once; REBUILD_BASE=1 to redo it),
# then the Dockerfile is built FROM it. With BASE=python:3.11-slim-bookworm (or any bookworm image
# with Python 3.11 and pip), that image is used as is.
# Needs root, debootstrap and podman (apt-get install podman debootstrap).
# ISOLATION=chroot (default) builds without cgroups or user namespaces, which containers and
# sandboxes often refuse; set ISOLATION=oci on an ordinary host.
set -euo pipefail

TAG=${1:-localhost/datadsn:latest}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ISOLATION=${ISOLATION:-chroot}
BASE_TAG=localhost/datadsn-base:bookworm
ROOT=$(cd "$(dirname "$0")/.." && pwd)

command -v podman >/dev/null || {
    echo "build-image.sh : podman introuvable (apt-get install podman debootstrap)" >&2
    exit 1
}

make_base() {
    command -v debootstrap >/dev/null || {
        echo "build-image.sh : debootstrap introuvable (apt-get install debootstrap)" >&2
        exit 1
    }
    local rootfs
    rootfs=$(mktemp -d /tmp/datadsn-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase \
        --include=python3.11,python3.11-venv,python3-pip,ca-certificates \
        bookworm "$rootfs" "$DEBIAN_MIRROR"
    # Like the official python image: pip installs into this Python (uv, then the locked venv).
    rm -f "$rootfs"/usr/lib/python3.11/EXTERNALLY-MANAGED
    ln -sf python3.11 "$rootfs/usr/bin/python"
    # The build fetches from PyPI through whatever authorities this host trusts (a proxy's too).
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import \
        --change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
        --change 'CMD ["python3"]' - "$BASE_TAG"
    rm -rf "$rootfs"
    trap - EXIT
}

if [ -z "${BASE:-}" ]; then
    if [ -n "${REBUILD_BASE:-}" ] || ! podman image exists "$BASE_TAG" 2>/dev/null; then
        make_base
    fi
    BASE=$BASE_TAG
fi

podman build --isolation "$ISOLATION" --network host --build-arg "BASE=$BASE" -t "$TAG" "$ROOT"
echo "image $TAG construite depuis $BASE"
