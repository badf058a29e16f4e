#!/usr/bin/env bash
# Assemble the arm64 root filesystem of the guest and the arm64 sysroot used
# to cross-compile, from Debian's own arm64 packages, without installing any
# arm64 package on this machine and without touching its apt state.
#
#   scripts/guest/rootfs.sh [--force]
#
# A private apt configuration (arm64 as the only architecture, an empty dpkg
# status, its own package lists and download folder, no recommends) fetches
# the dependency closure of the packages below; each .deb is unpacked with
# `dpkg-deb -x`:
#   $GUEST/rootfs    GStreamer core, base, good, bad, tools, busybox
#   $GUEST/sysroot   the -dev packages the project builds against
# Both are remade only when the package lists or this script change (the
# key is written to .stamp inside each tree). Prints the two paths on
# stdout, progress on stderr.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"
. "$top/scripts/guest/lib.sh"

force=0
[ "${1:-}" = --force ] && force=1

rootfs_pkgs=(
  gstreamer1.0-tools
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  libgstreamer1.0-0
  libgstreamer-plugins-base1.0-0
  busybox-static
  libasan8
  strace
  v4l-utils
)
sysroot_pkgs=(
  libgstreamer1.0-dev
  libgstreamer-plugins-base1.0-dev
  libglib2.0-dev
)
# The C library and kernel headers come from the cross toolchain
# (libc6-dev-arm64-cross); a second copy in the sysroot would only hold
# linker scripts with absolute paths that point at this machine.
sysroot_skip='^(libc6-dev|linux-libc-dev|libc-dev-bin|libcrypt-dev|libnsl-dev|rpcsvc-proto)$'

rootfs=$GUEST/rootfs
sysroot=$GUEST/sysroot
key=$({
  echo "rootfs ${rootfs_pkgs[*]}"
  echo "sysroot ${sysroot_pkgs[*]} skip $sysroot_skip"
  cat "$0"
} | sha256sum | cut -c1-16)

if [ $force -eq 0 ] &&
  [ "$(cat "$rootfs/.stamp" 2>/dev/null)" = "$key" ] &&
  [ "$(cat "$sysroot/.stamp" 2>/dev/null)" = "$key" ]; then
  log "guest root filesystem and sysroot: cached ($key)"
  echo "$rootfs"
  echo "$sysroot"
  exit 0
fi

need_pkgs apt dpkg binutils-aarch64-linux-gnu ||
  die "cannot install the tools needed to assemble the root filesystem"

exec 8>"$GUEST/.rootfs.lock"
flock 8

t0=$(date +%s)
aptdir=$GUEST/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/cache" \
  "$aptdir/log"
[ -f "$aptdir/status" ] || : >"$aptdir/status"

# Everything on the command line: it wins over /etc/apt/apt.conf.d. The
# sources are this machine's own (its mirror or proxy applies), read only.
apt_opts=(
  -o APT::Architecture=arm64
  -o APT::Architectures::=arm64
  -o APT::Install-Recommends=false
  -o APT::Install-Suggests=false
  -o APT::Sandbox::User=root
  -o APT::Get::AllowUnauthenticated=false
  -o Dir::State="$aptdir"
  -o Dir::State::lists="$aptdir/lists"
  -o Dir::State::status="$aptdir/status"
  -o Dir::State::extended_states="$aptdir/extended_states"
  -o Dir::Cache="$aptdir/cache"
  -o Dir::Cache::archives="$aptdir/archives"
  -o Dir::Cache::pkgcache=
  -o Dir::Cache::srcpkgcache=
  -o Dir::Log="$aptdir/log"
  -o Debug::NoLocking=false
)
papt() {
  DEBIAN_FRONTEND=noninteractive apt-get -q -y "${apt_opts[@]}" "$@"
}

log "guest: fetching the arm64 package lists (private apt state in $aptdir)"
papt update >"$aptdir/update.log" 2>&1 ||
  { tail -n 20 "$aptdir/update.log" >&2; die "apt-get update (arm64) failed"; }

# Names and versions of the closure of "$@", as .deb file names.
closure() {
  papt -s install "$@" 2>"$aptdir/resolve.err" |
    sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) [^[]*\[\([a-z0-9]*\)\].*/\1 \2 \3/p' |
    while read -r name ver arch; do
      echo "${name}_${ver//:/%3a}_${arch}.deb"
    done
}

# fill DIR LISTFILE SKIP-REGEX PKG...
fill() {
  local dir=$1 list=$2 skip=$3
  shift 3
  closure "$@" >"$list"
  [ -s "$list" ] || { cat "$aptdir/resolve.err" >&2; die "cannot resolve $*"; }
  log "guest: downloading $(wc -l <"$list") arm64 packages for $(basename "$dir")"
  papt install --download-only "$@" >"$aptdir/download.log" 2>&1 ||
    { tail -n 20 "$aptdir/download.log" >&2; die "download of $* failed"; }
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  local n=0 total deb name
  total=$(wc -l <"$list")
  while read -r deb; do
    n=$((n + 1))
    name=${deb%%_*}
    if [ -n "$skip" ] && [[ $name =~ $skip ]]; then
      continue
    fi
    [ -f "$aptdir/archives/$deb" ] || die "missing download $deb"
    dpkg-deb -x "$aptdir/archives/$deb" "$dir.tmp"
    if [ $((n % 50)) -eq 0 ] || [ "$n" -eq "$total" ]; then
      log "guest: unpacked $n/$total into $(basename "$dir")"
    fi
  done <"$list"
  # Documentation, manuals and translations are of no use in the guest.
  rm -rf "$dir.tmp"/usr/share/{doc,man,info,locale,lintian,bug,gtk-doc,help}
  # Merged /usr, as an installed Debian 12 system has it.
  local d
  for d in bin sbin lib; do
    if [ -d "$dir.tmp/$d" ] && [ ! -L "$dir.tmp/$d" ]; then
      mkdir -p "$dir.tmp/usr/$d"
      cp -a "$dir.tmp/$d/." "$dir.tmp/usr/$d/"
      rm -rf "${dir:?}.tmp/$d"
    fi
    ln -sfn "usr/$d" "$dir.tmp/$d"
  done
}

fill "$rootfs" "$GUEST/rootfs.debs" "" "${rootfs_pkgs[@]}"

# What a chroot needs and dpkg's maintainer scripts would have made.
r=$rootfs.tmp
mkdir -p "$r"/{dev,proc,sys,tmp,run,root,var/tmp,etc} \
  "$r$GUEST_MNT_BUILD" "$r$GUEST_MNT_SRC" "$r$GUEST_MNT_TOOLS" "$r$GUEST_MNT_JOB" \
  "$r$GUEST_MNT_ASAN"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\nvideo:x:44:\n' >"$r/etc/group"
# busybox-static ships /bin/busybox only; the guest scripts call
# "busybox sh", but a /bin/sh is expected by system() and popen().
[ -e "$r/usr/bin/sh" ] || ln -s busybox "$r/usr/bin/sh"

# Every shared object the GStreamer tools and plugins need must be there
# (no maintainer script ran, so e.g. an alternatives link would be missing).
log "guest: checking that every library the plugins need is present"
libdirs=("$r/usr/lib/aarch64-linux-gnu" "$r/usr/lib")
have_lib() {
  local d
  for d in "${libdirs[@]}"; do
    [ -e "$d/$1" ] && return 0
  done
  find "$r/usr/lib/aarch64-linux-gnu" -name "$1" -print -quit | grep -q .
}
missing=$(
  find "$r/usr/bin" "$r/usr/lib/aarch64-linux-gnu/gstreamer-1.0" \
    "$r/usr/lib/aarch64-linux-gnu/gstreamer1.0" -type f \
    \( -name 'gst-*' -o -name '*.so' \) -print0 |
    xargs -0 aarch64-linux-gnu-readelf -d 2>/dev/null |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u |
    while read -r lib; do have_lib "$lib" || echo "$lib"; done
)
if [ -n "$missing" ]; then
  log "guest: warning: libraries needed but absent: $(echo $missing)"
fi

fill "$sysroot" "$GUEST/sysroot.debs" "$sysroot_skip" "${sysroot_pkgs[@]}"

for dir in "$rootfs" "$sysroot"; do
  echo "$key" >"$dir.tmp/.stamp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
done

# Keep only the .debs of the current closures.
cat "$GUEST/rootfs.debs" "$GUEST/sysroot.debs" | sort -u >"$aptdir/keep"
find "$aptdir/archives" -maxdepth 1 -name '*.deb' -printf '%f\n' |
  { grep -vxF -f "$aptdir/keep" || true; } |
  while read -r old; do rm -f "$aptdir/archives/$old"; done

log "guest: root filesystem $(du -sh "$rootfs" | cut -f1), sysroot $(du -sh "$sysroot" | cut -f1), $(since "$t0") s"
echo "$rootfs"
echo "$sysroot"
