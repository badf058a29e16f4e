#!/usr/bin/env bash
# Boot the arm64 guest on the patched kernel with the "regions" device tree
# and run one job in it.
#
#   scripts/guest/boot.sh [--timeout SEC] [--kernel patched|unpatched]
#                         [--layout LAYOUT] [--append STR] JOBDIR
#
# JOBDIR holds run.sh, run by busybox sh chrooted in the arm64 root
# filesystem (scripts/guest/init), and whatever it reads; it is shared
# read-only as /mnt/job. The project's cross build dir, the source tree and
# the helper programs are shared too (/mnt/build, /mnt/src, /mnt/tools).
# The console goes to stdout; judge the run by its marker lines.
#
# Two vivid instances: 0 allocates with vmalloc and reads imported dma-bufs
# through a kernel mapping (any heap will do), 1 uses dma-contig like a
# camera without IOMMU (it attaches the dma-buf and needs it contiguous).
# vkms is the display, vgem is there too (the kernel selftest uses it).
#
# Kernel, device tree and initramfs come from the rig (kernel/rig) and the
# cache; only what changed is remade. Progress on stderr.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"
. "$top/scripts/guest/lib.sh"

timeout=600 variant=patched layout=regions append=
while [ $# -gt 1 ]; do
  case $1 in
    --timeout) timeout=$2; shift 2 ;;
    --kernel) variant=$2; shift 2 ;;
    --layout) layout=$2; shift 2 ;;
    --append) append="$append $2"; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
[ $# -eq 1 ] && [ -f "$1/run.sh" ] || die "usage: $0 [options] JOBDIR (with JOBDIR/run.sh)"
job=$(cd "$1" && pwd)

rig=$top/kernel/rig
for f in build-kernel.sh make-dtb.sh boot.sh; do
  [ -x "$rig/$f" ] || die "kernel/rig/$f is missing: the rig has not landed yet"
done

rootfs=$("$guest_dir/rootfs.sh" | sed -n 1p)
mkdir -p "$GUEST/boot"

kout=$("$rig/build-kernel.sh" "$variant") || die "kernel build failed"
[ -f "$kout/Image" ] || die "no Image in '$kout'"

dkey=$(cat "$rig/make-dtb.sh" "$rig/layouts.sh" | sha256sum | cut -c1-12)
dtb=$GUEST/boot/$layout-$dkey.dtb
if [ ! -f "$dtb" ]; then
  "$rig/make-dtb.sh" "$layout" "$dtb.tmp.dtb" >&2 || die "make-dtb.sh $layout failed"
  mv "$dtb.tmp.dtb" "$dtb"
fi

# The initramfs: busybox from the root filesystem and our /init.
ikey=$(cat "$guest_dir/init" "$rootfs/.stamp" "$0" | sha256sum | cut -c1-12)
initrd=$GUEST/boot/initramfs-$ikey.cpio.gz
if [ ! -f "$initrd" ]; then
  need_pkgs cpio gzip || die "cannot install cpio"
  stage=$(mktemp -d)
  mkdir -p "$stage"/{bin,dev,proc,sys,newroot}
  cp "$rootfs/usr/bin/busybox" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  install -m 755 "$guest_dir/init" "$stage/init"
  mknod -m 600 "$stage/dev/console" c 5 1
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) | gzip -n -6 >"$initrd.tmp"
  rm -rf "$stage"
  mv "$initrd.tmp" "$initrd"
  find "$GUEST/boot" -name 'initramfs-*.cpio.gz' ! -name "$(basename "$initrd")" -delete
fi

shares=(--share "$rootfs:rootfs" --share "$top:src" --share "$job:job")
[ -d "$GUEST_BUILD" ] && shares+=(--share "$GUEST_BUILD:build")
[ -d "$GUEST_TOOLS" ] && shares+=(--share "$GUEST_TOOLS:tools")
[ -d "$GUEST_ASAN" ] && shares+=(--share "$GUEST_ASAN:asan")

# GStreamer registries the guest printed in earlier boots go back in
# (scripts/guest/guest-lib.sh); new ones are taken from the console.
regdir=$GUEST_REGISTRY
mkdir -p "$regdir"
rm -rf "$job/registry"
mkdir -p "$job/registry"
find "$regdir" -maxdepth 1 -name '*.gz' -exec cp {} "$job/registry/" \;

log "guest: booting ($variant kernel, $layout layout, time limit $timeout s)"
"$rig/boot.sh" --kernel "$kout/Image" --dtb "$dtb" --initrd "$initrd" \
  "${shares[@]}" --append "quiet vivid.n_devs=2 vivid.allocators=0,1$append" \
  --timeout "$timeout" |
  # Line by line as the guest prints them (awk would read the pipe in
  # blocks and hold the console back); registries go to their files.
  {
    regfile=
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%$'\r'}
      if [ -n "$regfile" ]; then
        if [ "$line" = GUEST-REGISTRY-END ]; then
          regfile=
        else
          printf '%s\n' "$line" >>"$regfile"
        fi
        continue
      fi
      if [[ $line =~ ^GUEST-REGISTRY-BEGIN\ ([A-Za-z0-9._-]+)$ ]]; then
        regfile=$regdir/${BASH_REMATCH[1]}.b64
        : >"$regfile"
        continue
      fi
      printf '%s\n' "$line"
    done
  }
rc=${PIPESTATUS[0]}
for b in "$regdir"/*.b64; do
  [ -f "$b" ] || continue
  if base64 -d "$b" >"${b%.b64}.gz.tmp" 2>/dev/null && gzip -t "${b%.b64}.gz.tmp" 2>/dev/null; then
    mv "${b%.b64}.gz.tmp" "${b%.b64}.gz"
  else
    rm -f "${b%.b64}.gz.tmp"
  fi
  rm -f "$b"
done
exit "$rc"
