#!/usr/bin/env bash
# Pack the initramfs that runs the rig's guest checks.
#
#   kernel/rig/make-initramfs.sh KERNEL_OUT_DIR OUT.cpio.gz
#
# KERNEL_OUT_DIR is a directory printed by build-kernel.sh (its dmabuf-heap
# selftest goes in). Contents: arm64 busybox-static (/bin), /init
# (guest-init.sh), /rig/layouts.sh, /rig/heapcheck, /rig/dmabuf-heap.
#
# Also usable on its own: `make-initramfs.sh --busybox` prints the path of
# the cached arm64 busybox binary.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"
rig=$top/kernel/rig

# The arm64 busybox-static, fetched once with apt and cached.
busybox_path() {
  local dir=$CACHE/rig/busybox-arm64
  if ! [ -x "$dir/bin/busybox" ]; then
    need_pkgs dpkg-dev >/dev/null 2>&1 || true
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      log "adding the arm64 architecture to dpkg"
      dpkg --add-architecture arm64
      apt-get -q update >&2 || die "apt-get update failed"
    fi
    local tmp
    tmp=$(mktemp -d)
    chmod 755 "$tmp"    # apt downloads as user _apt
    mkdir -p "$CACHE/rig"
    if ! (cd "$tmp" && apt-get -q download busybox-static:arm64 >&2); then
      apt-get -q update >&2 || die "apt-get update failed"
      (cd "$tmp" && apt-get -q download busybox-static:arm64 >&2) ||
        die "cannot download busybox-static:arm64"
    fi
    rm -rf "$dir.tmp"
    dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$dir.tmp"
    rm -rf "$tmp" "$dir"
    mv "$dir.tmp" "$dir"
    log "busybox arm64 unpacked in $dir"
  fi
  echo "$dir/bin/busybox"
}

if [ "${1:-}" = --busybox ]; then
  busybox_path
  exit 0
fi

[ $# -eq 2 ] || { echo "usage: $0 KERNEL_OUT_DIR OUT.cpio.gz" >&2; exit 2; }
kout=$1 out=$2
[ -x "$kout/dmabuf-heap" ] || die "no dmabuf-heap in $kout"

need_pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross cpio gzip ||
  die "cannot install the cross compiler and cpio"

busybox=$(busybox_path)

# heapcheck, built once per version of its source.
mkdir -p "$CACHE/rig"
hsum=$(sha256sum "$rig/heapcheck.c" | cut -c1-16)
heapcheck=$CACHE/rig/heapcheck-$hsum
if ! [ -x "$heapcheck" ]; then
  aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror \
    -o "$heapcheck.tmp" "$rig/heapcheck.c" || die "heapcheck does not build"
  mv "$heapcheck.tmp" "$heapcheck"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,rig}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 755 "$rig/guest-init.sh" "$stage/init"
install -m 644 "$rig/layouts.sh" "$stage/rig/layouts.sh"
install -m 755 "$heapcheck" "$stage/rig/heapcheck"
install -m 755 "$kout/dmabuf-heap" "$stage/rig/dmabuf-heap"
# The kernel opens /dev/console before /init runs.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

# Same inputs, same bytes: the tier keys cached boot results on its hash.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
  cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -n -6 >"$out.tmp"
mv "$out.tmp" "$out"
log "initramfs: $out ($(du -k "$out" | cut -f1) KiB)"
