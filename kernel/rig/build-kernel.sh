#!/usr/bin/env bash
# Build (or reuse from the cache) the arm64 kernel of the QEMU rig.
#
#   kernel/rig/build-kernel.sh {patched|unpatched} [--prefix K] [--config FRAGMENT]
#
# unpatched: Debian's linux-source-6.12 as shipped.
# patched:   the same plus every kernel/patches/000[1-9]*.patch (the cover
#            letter is skipped), applied with `git am`; fails if one does not
#            apply.
# --prefix K       patched with only the first K patches (bisectability)
# --config FILE    a second fragment merged after rig.config (say, to build
#                  with DMABUF_HEAPS=n); only its own lines are then checked,
#                  as it may switch off what rig.config wants
#
# Prints one line on stdout: the absolute path of a directory holding
#   Image        the arm64 kernel image
#   config       its .config
#   dmabuf-heap  tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c built
#                static for arm64 against this tree's uapi headers
#   series.txt   the commits applied on top of pristine (one per patch)
#   source-tree  path of the source tree it was built from (the patched
#                tree is reused by the next patched build with other patches)
# Progress and logs go to stderr.
#
# Everything lives under $CACHE/kernel:
#   linux-<ver>/            pristine source as a git tree (tag "pristine")
#   linux-<ver>-patched/    a worktree of it with the series applied
#   build-<ver>-<variant>/  O= build directories, kept for incremental builds
#   out/<kind>-<key>/       the results; <key> hashes the source version, the
#                           patches, the config fragment and this script
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"

usage() {
  echo "usage: $0 {patched|unpatched} [--prefix K] [--config FRAGMENT]" >&2
  exit 2
}
variant=${1:-}
case $variant in
  patched|unpatched) shift ;;
  *) usage ;;
esac
prefix= extra=
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=${2:?}; shift 2 ;;
    --config) extra=$(realpath "${2:?}"); shift 2 ;;
    *) usage ;;
  esac
done
[ -z "$prefix" ] || [ "$variant" = patched ] || usage
[ -z "$extra" ] || [ -f "$extra" ] || die "no such file: $extra"

rig=$top/kernel/rig
fragment=$rig/rig.config
tarball=/usr/src/linux-source-6.12.tar.xz
kcache=$CACHE/kernel
mkdir -p "$kcache/out"

need_pkgs linux-source-6.12 make gcc gcc-aarch64-linux-gnu \
  libc6-dev-arm64-cross flex bison bc libssl-dev libelf-dev xz-utils git \
  perl python3 || die "cannot install the build dependencies"

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
patches=()
if [ "$variant" = patched ]; then
  for p in "$top"/kernel/patches/000[1-9]*.patch; do
    [ -e "$p" ] && patches+=("$p")
  done
  if [ -n "$prefix" ]; then
    [ "$prefix" -ge 1 ] && [ "$prefix" -le ${#patches[@]} ] ||
      die "--prefix $prefix: the series has ${#patches[@]} patches"
    patches=("${patches[@]:0:$prefix}")
  fi
fi

key=$({
  echo "source linux-source-6.12 $srcver"
  echo "variant $variant"
  for p in ${patches[@]+"${patches[@]}"}; do
    echo "patch $(basename "$p")"
    cat "$p"
  done
  echo "fragment"; cat "$fragment"
  if [ -n "$extra" ]; then echo "extra"; cat "$extra"; fi
  echo "script"; grep -v '^[[:space:]]*#' "$0"   # comments do not count
} | sha256sum | cut -c1-16)
# Results of the same kind (variant, prefix or not, extra config or not) are
# pruned together.
kind=$variant${prefix:+-prefix$prefix}${extra:+-$(basename "$extra" .config)}
out=$kcache/out/$kind-$key

if [ -f "$out/.done" ]; then
  log "kernel $kind: cached in $out"
  echo "$out"
  exit 0
fi

# One build at a time: the source trees are shared.
exec 9>"$kcache/.lock"
if ! flock -n 9; then
  log "kernel $kind: waiting for another build to finish"
  flock 9
fi
if [ -f "$out/.done" ]; then
  echo "$out"
  exit 0
fi

t0=$(date +%s)
gitc=(git -c user.name=gst-dmaheap -c user.email=rig@gst-dmaheap.invalid
      -c advice.detachedHead=false -c gc.auto=0)

# Pristine tree, made once per source version.
src=$kcache/linux-$srcver
if ! [ -f "$src/.rig-pristine" ]; then
  log "unpacking $tarball into $src"
  rm -rf "$src" "$src-patched"
  mkdir -p "$src"
  tar -xJf "$tarball" -C "$src" --strip-components=1
  log "making a git tree of it (the tarball's .gitignore ignores everything)"
  (cd "$src" && "${gitc[@]}" init -q && "${gitc[@]}" add -A -f &&
    "${gitc[@]}" commit -q -m "linux-source-6.12 $srcver" &&
    "${gitc[@]}" tag pristine)
  touch "$src/.rig-pristine"
  log "pristine tree ready after $(( $(date +%s) - t0 )) s"
fi

if [ "$variant" = patched ]; then
  tree=$src-patched
  if ! [ -e "$tree/.git" ]; then
    rm -rf "$tree"
    "${gitc[@]}" -C "$src" worktree prune
    "${gitc[@]}" -C "$src" worktree add -q --detach "$tree" pristine
  fi
  # Back to pristine: git rewrites only the files that differ, so the
  # O= build stays incremental.
  "${gitc[@]}" -C "$tree" am --abort >/dev/null 2>&1 || true
  "${gitc[@]}" -C "$tree" checkout -q -f --detach pristine
  "${gitc[@]}" -C "$tree" clean -q -f -d -x
  if [ ${#patches[@]} -eq 0 ]; then
    log "warning: kernel/patches holds no 000[1-9]*.patch: 'patched' equals pristine"
  else
    log "applying ${#patches[@]} patches with git am"
    if ! "${gitc[@]}" -C "$tree" am -q "${patches[@]}" >&2; then
      "${gitc[@]}" -C "$tree" am --abort >/dev/null 2>&1 || true
      die "the series does not apply with git am on pristine $srcver"
    fi
    log "git am applied ${#patches[@]} patches"
  fi
else
  tree=$src
fi

build=$kcache/build-$srcver-$variant
mkdir -p "$build"
# Fixed build stamps: the same source gives the same Image, whose hash keys
# the cached boot results of scripts/tier-kernel.
export KBUILD_BUILD_TIMESTAMP="linux-source-6.12 $srcver" KBUILD_BUILD_USER=rig \
  KBUILD_BUILD_HOST=gst-dmaheap KBUILD_BUILD_VERSION=1
mk=(make -C "$tree" O="$build" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
buildlog=$kcache/build-$variant.log
: >"$buildlog"

log "kernel $kind: configuring (allnoconfig + $fragment${extra:+ + $extra})"
{
  "${mk[@]}" allnoconfig
  "$tree/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" \
    "$fragment" ${extra:+"$extra"}
  "${mk[@]}" olddefconfig
} >>"$buildlog" 2>&1 || { tail -n 30 "$buildlog" >&2; die "configuration failed"; }

# Every line of the fragment must have survived olddefconfig.
bad=0
check=$fragment
[ -z "$extra" ] || check=$extra
while IFS= read -r line; do
  case $line in
    CONFIG_*=*) want=$line ;;
    "# CONFIG_"*" is not set") want=$line ;;
    *) continue ;;
  esac
  if ! grep -qxF -- "$want" "$build/.config"; then
    sym=${want%%=*}; sym=${sym#"# "}; sym=${sym%% *}
    got=$(grep -E "^$sym=|^# $sym is not set" "$build/.config" || echo "absent")
    log "config: wanted '$want', got '$got'"
    bad=1
  fi
done <"$check"
[ $bad -eq 0 ] || die "the config fragment did not apply (see above)"

log "kernel $kind: make -j$(nproc) Image (log: $buildlog)"
n=0
if ! "${mk[@]}" -j"$(nproc)" Image 2>&1 | tee -a "$buildlog" |
    while IFS= read -r l; do
      n=$((n + 1))
      [ $((n % 250)) -eq 0 ] && log "  $n: $l"
      true
    done; then
  grep -E 'error|Error' "$buildlog" | head -n 30 >&2 || true
  tail -n 20 "$buildlog" >&2
  die "kernel build failed"
fi
grep -E ': warning:' "$buildlog" | sort -u | head -n 20 >&2 || true

log "kernel $kind: uapi headers and the dmabuf-heaps selftest"
"${mk[@]}" headers >>"$buildlog" 2>&1 || { tail -n 20 "$buildlog" >&2; die "make headers failed"; }

tmp=$out.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
aarch64-linux-gnu-gcc -static -O2 -Wall -isystem "$build/usr/include" \
  -o "$tmp/dmabuf-heap" \
  "$tree/tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c" >>"$buildlog" 2>&1 ||
  { tail -n 20 "$buildlog" >&2; die "building the dmabuf-heaps selftest failed"; }
cp "$build/arch/arm64/boot/Image" "$tmp/Image"
cp "$build/.config" "$tmp/config"
"${gitc[@]}" -C "$tree" log --reverse --format='%h %s' pristine..HEAD >"$tmp/series.txt"
echo "$srcver" >"$tmp/source-version"
echo "$tree" >"$tmp/source-tree"
touch "$tmp/.done"
rm -rf "$out"
mv "$tmp" "$out"

# Keep the three newest results of this kind.
for old in $(ls -1dt "$kcache/out/$kind"-* 2>/dev/null | tail -n +4); do
  [[ ${old#"$kcache/out/$kind-"} =~ ^[0-9a-f]{16}$ ]] && rm -rf "$old"
done

log "kernel $kind: done in $(( $(date +%s) - t0 )) s"
echo "$out"
