#!/bin/bash
# Makes a Debian 12 base image without a registry: debootstrap a minimal system from the Debian
# mirror, trim it, and import it into podman. The container tests run this once per machine, when
# the image is missing (docs/deployment.md#building-without-a-registry).
#   make-debian-base.sh [IMAGE] [MIRROR]     (as root; needs debootstrap and podman)
set -euo pipefail
image=${1:-localhost/debian-base:bookworm}
mirror=${2:-http://deb.debian.org/debian}
rootfs=$(mktemp -d /var/tmp/debian-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
# The slim images' clean-up, by hand: no package cache, lists, docs, man pages or locales.
(cd "$rootfs" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* \
    usr/share/doc/* usr/share/man/* usr/share/locale/* usr/share/info/*)
tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$image"
