#!/usr/bin/env bash
# Cross-build the project (library, plugin, tests, examples) for arm64 with
# -Werror, the guest helper programs of scripts/guest/tools, and the project
# again with AddressSanitizer.
#
#   scripts/guest/cross-build.sh [--suite SUITE] [project|tools|asan|all]
#                                                       (default: all)
#
# SUITE is the Debian release whose sysroot (and so GStreamer) the build is
# made against: bookworm (1.22, the default), trixie (1.26) or sid (1.28),
# see scripts/guest/lib.sh; GST_DMAHEAP_SUITE sets it too.
# Build dirs: $GUEST_BUILD (project), $GUEST_TOOLS and $GUEST_ASAN, one set
# per suite (_build/guest, _build/guest-trixie, ...). They are kept, so a
# rebuild after a small change only recompiles what changed. They are set
# up again from scratch when the sysroot or the cross file change.
# Prints the build dirs on stdout; progress and compiler output on stderr.
# Exit status 1: the project does not build (the compiler output says why).
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"
. "$top/scripts/guest/lib.sh"

what=all
while [ $# -gt 0 ]; do
  case $1 in
    --suite) guest_set_suite "${2:?--suite wants a suite}"; shift 2 ;;
    project|tools|asan|all) what=$1; shift ;;
    *) die "usage: $0 [--suite bookworm|trixie|sid] [project|tools|asan|all]" ;;
  esac
done

need_pkgs meson ninja-build pkg-config gcc-aarch64-linux-gnu \
  libc6-dev-arm64-cross || die "cannot install the cross toolchain"

sysroot=$("$guest_dir/rootfs.sh" | sed -n 2p)
[ -d "$sysroot" ] || die "no sysroot"

# The machine file that tells the cross file where the sysroot is (in the
# checkout: another checkout may use another sysroot).
sysini=$GUEST_SYSINI
mkdir -p "$(dirname "$sysini")"
# bookworm's sysroot has no C library (the cross toolchain's is the same).
# The others bring theirs (rootfs.sh), and the compiler must take its
# headers, start files and libraries rather than the toolchain's: the
# sysroot's include dirs as system dirs (searched before the toolchain's),
# -B for the start files, -L ahead of the toolchain's library dir.
if [ "$GUEST_SUITE" = bookworm ]; then
  c_args="[]" link_args="[]"
else
  inc=$sysroot/usr/include lib=$sysroot/usr/lib/aarch64-linux-gnu
  c_args="['--sysroot=$sysroot', '-isystem', '$inc/aarch64-linux-gnu', '-isystem', '$inc']"
  link_args="['--sysroot=$sysroot', '-B$lib/', '-L$lib', '-L$sysroot/usr/lib']"
fi
printf "[constants]\nsysroot = '%s'\nsysroot_c_args = %s\nsysroot_link_args = %s\n" \
  "$sysroot" "$c_args" "$link_args" >"$sysini.new"
if cmp -s "$sysini.new" "$sysini"; then rm -f "$sysini.new"; else mv "$sysini.new" "$sysini"; fi
cross=("--cross-file" "$sysini" "--cross-file" "$guest_dir/aarch64-linux-gnu.ini")
setup_key=$(cat "$sysini" "$guest_dir/aarch64-linux-gnu.ini" "$sysroot/.stamp" |
  sha256sum | cut -c1-16)

# build NAME SRCDIR BUILDDIR MESON-OPTIONS...
build() {
  local name=$1 src=$2 dir=$3 t0
  shift 3
  t0=$(date +%s)
  if [ -f "$dir/build.ninja" ] && [ "$(cat "$dir/.setup-key" 2>/dev/null)" = "$setup_key" ]; then
    :
  else
    log "guest: configuring the arm64 build of $name against $GUEST_SUITE (GStreamer $GUEST_GST) in $dir"
    rm -rf "$dir"
    if ! meson setup "$dir" "$src" "${cross[@]}" "$@" >"$GUEST_RUN/$name-setup.log" 2>&1; then
      tail -n 40 "$GUEST_RUN/$name-setup.log" >&2
      log "guest: meson setup of $name ($GUEST_SUITE) failed (log: $GUEST_RUN/$name-setup.log)"
      rm -rf "$dir"
      return 1
    fi
    echo "$setup_key" >"$dir/.setup-key"
  fi
  log "guest: building $name for arm64"
  if ! ninja -C "$dir" >"$GUEST_RUN/$name-build.log" 2>&1; then
    grep -E -A3 'error|warning' "$GUEST_RUN/$name-build.log" | head -n 60 >&2 ||
      tail -n 40 "$GUEST_RUN/$name-build.log" >&2
    log "guest: arm64 build of $name against $GUEST_SUITE failed (log: $GUEST_RUN/$name-build.log)"
    return 1
  fi
  log "guest: $name built in $(since "$t0") s"
}

rc=0
if [ "$what" = project ] || [ "$what" = all ]; then
  if build project "$top" "$GUEST_BUILD" -Dwerror=true -Dtests=enabled; then
    echo "$GUEST_BUILD"
  else
    rc=1
  fi
fi
if [ "$what" = tools ] || [ "$what" = all ]; then
  if build tools "$guest_dir/tools" "$GUEST_TOOLS" -Dwerror=true; then
    echo "$GUEST_TOOLS"
  else
    rc=1
  fi
fi
# The library, plugin and tests with AddressSanitizer (the guest has
# Debian's libasan8, the same GCC as the cross compiler).
if [ "$what" = asan ] || [ "$what" = all ]; then
  if build asan "$top" "$GUEST_ASAN" -Dwerror=true -Dtests=enabled \
    -Dexamples=disabled -Db_sanitize=address -Db_lundef=false; then
    echo "$GUEST_ASAN"
  else
    rc=1
  fi
fi
exit $rc
