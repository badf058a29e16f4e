#!/usr/bin/env bash
# Assemble the arm64 root filesystem of the guest and the arm64 sysroot used
# to cross-compile, from Debian's own arm64 packages, without installing any
# arm64 package on this machine and without touching its apt state.
#
#   scripts/guest/rootfs.sh [--suite SUITE] [--refresh] [--force]
#
#   --suite    bookworm (GStreamer 1.22, the default), trixie (1.26) or sid
#              (1.28); a GStreamer version names its suite too. Default:
#              $GST_DMAHEAP_SUITE, else bookworm (scripts/guest/lib.sh).
#   --refresh  assemble again from the archive as it is now, even if a tree
#              of the same package lists is cached (sid moves every day);
#              the new trees replace the old ones only if a package changed
#   --force    the same, and replace the trees even if nothing changed
#
# A private apt configuration (arm64 as the only architecture, an empty dpkg
# status, its own package lists and download folder, no recommends) fetches
# the dependency closure of the packages below; each .deb is unpacked with
# `dpkg-deb -x`. bookworm reads this machine's own sources (its mirror or
# proxy); trixie and sid read a private sources list that points at the same
# mirror, checked with the same keyring. The trees, under
# $GUEST/roots/<suite>-<key>:
#   rootfs/    GStreamer core, base, good, bad, tools, the GObject
#              introspection bindings, busybox; on trixie and sid Weston too
#   sysroot/   the -dev packages the project builds against
#   info       suite, versions, package counts, sizes and assembly time
# <key> hashes the package lists and this script: a tree is made once per
# key and never changed in place (a guest may be reading it); another
# checkout's key has its own trees. Trees of a suite not used for three
# days are removed. Prints the two paths on stdout, progress on stderr.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"
. "$top/scripts/guest/lib.sh"

refresh=0 force=0
while [ $# -gt 0 ]; do
  case $1 in
    --suite) guest_set_suite "${2:?--suite wants a suite}"; shift 2 ;;
    --refresh) refresh=1; shift ;;
    --force) refresh=1 force=1; shift ;;
    *) die "usage: $0 [--suite bookworm|trixie|sid] [--refresh] [--force]" ;;
  esac
done
suite=$GUEST_SUITE

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
  python3-gi
  gir1.2-gstreamer-1.0
  gir1.2-gst-plugins-base-1.0
)
# Weston 12 and later (bookworm has 10): the compositor on the DRM backend
# with its pixman renderer, the seat library's daemon, the keyboard maps it
# loads at start, and wayland-info to see what the compositor offers.
case $suite in
  trixie|sid) rootfs_pkgs+=(weston seatd xkb-data wayland-utils) ;;
esac
sysroot_pkgs=(
  libgstreamer1.0-dev
  libgstreamer-plugins-base1.0-dev
  libglib2.0-dev
)
# On bookworm the C library and kernel headers come from the cross
# toolchain (libc6-dev-arm64-cross, the same glibc 2.36). Newer suites'
# libraries need their newer glibc (GLib on trixie links against 2.38
# symbols): there the sysroot has its own C library and kernel headers, and
# the compiler is pointed at it with --sysroot (cross-build.sh), under which
# the linker scripts' absolute paths resolve inside the sysroot.
sysroot_skip=
if [ "$suite" = bookworm ]; then
  sysroot_skip='^(libc6-dev|linux-libc-dev|libc-dev-bin|libcrypt-dev|libnsl-dev|rpcsvc-proto)$'
fi

key=$({
  echo "suite $suite"
  echo "rootfs ${rootfs_pkgs[*]}"
  echo "sysroot ${sysroot_pkgs[*]} skip $sysroot_skip"
  cat "$0"
} | sha256sum | cut -c1-16)

roots=$GUEST/roots
tree=$roots/$suite-$key
rootfs=$tree/rootfs
sysroot=$tree/sysroot
mkdir -p "$roots"

# Trees of this suite that no checkout asked for in three days, and trees
# that a refresh replaced a day ago (no guest runs that long).
collect_old() {
  local d
  for d in "$roots/$suite"-*; do
    [ -d "$d" ] && [ "$d" != "$tree" ] || continue
    case $d in
      *.old-*) [ -n "$(find "$d" -maxdepth 0 -mmin +1440)" ] || continue ;;
      *.tmp) [ -n "$(find "$d" -maxdepth 0 -mmin +120)" ] || continue ;;
      *) [ -z "$(find "$d/.used" -mmin -4320 2>/dev/null)" ] || continue ;;
    esac
    log "guest: removing the unused tree $d"
    rm -rf "$d"
  done
}

done_trees() {
  touch "$tree/.used"
  echo "$rootfs"
  echo "$sysroot"
}

if [ $refresh -eq 0 ] && [ -f "$tree/.complete" ]; then
  log "guest: $suite root filesystem and sysroot: cached ($tree)"
  done_trees
  exit 0
fi

need_pkgs apt dpkg binutils-aarch64-linux-gnu ||
  die "cannot install the tools needed to assemble the root filesystem"

exec 8>"$GUEST/.rootfs-$suite.lock"
flock 8
# Another run may have made it while this one waited.
if [ $refresh -eq 0 ] && [ -f "$tree/.complete" ]; then
  log "guest: $suite root filesystem and sysroot: cached ($tree)"
  done_trees
  exit 0
fi
collect_old

t0=$(date +%s)
aptdir=$GUEST/apt-$suite
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/cache" \
  "$aptdir/log" "$aptdir/sources.list.d"
[ -f "$aptdir/status" ] || : >"$aptdir/status"

# The mirror this machine installs its Debian packages from, and its
# security mirror: "URI SUITE" per line from /etc/apt/sources.list{,.d}.
machine_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -E -n 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\2 \3/p' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() { if (deb && uris != "") { n = split(uris, u, " "); m = split(suites, s, " ");
        for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j] } deb = 0; uris = ""; suites = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/ { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      END { flush() }' "$f"
  done
}

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
if [ "$suite" != bookworm ]; then
  host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  mirror=$(machine_sources | awk -v s="$host_codename" '$2 == s { print $1; exit }')
  security=$(machine_sources | awk -v s="$host_codename-security" '$2 == s { print $1; exit }')
  [ -n "$mirror" ] ||
    die "no Debian mirror for $host_codename in /etc/apt/sources.list*: cannot tell where $suite comes from"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || need_pkgs debian-archive-keyring || die "no Debian archive keyring"
  {
    echo "deb [signed-by=$keyring] $mirror $suite main"
    if [ "$suite" != sid ]; then
      echo "deb [signed-by=$keyring] $mirror $suite-updates main"
      [ -z "$security" ] || echo "deb [signed-by=$keyring] $security $suite-security main"
    fi
  } >"$aptdir/sources.list"
  apt_opts+=(
    -o Dir::Etc::sourcelist="$aptdir/sources.list"
    -o Dir::Etc::sourceparts="$aptdir/sources.list.d"
  )
fi
papt() {
  DEBIAN_FRONTEND=noninteractive apt-get -q -y "${apt_opts[@]}" "$@"
}

log "guest: fetching the arm64 package lists of $suite (private apt state in $aptdir)"
papt update >"$aptdir/update.log" 2>&1 ||
  { tail -n 20 "$aptdir/update.log" >&2; die "apt-get update (arm64, $suite) failed"; }

# Names and versions of the closure of "$@", as .deb file names.
closure() {
  papt -s install "$@" 2>"$aptdir/resolve.err" |
    sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) [^[]*\[\([a-z0-9]*\)\].*/\1 \2 \3/p' |
    while read -r name ver arch; do
      echo "${name}_${ver//:/%3a}_${arch}.deb"
    done
}

# version_in LISTFILE PACKAGE: the version of PACKAGE in a closure list
version_in() {
  sed -n "s/^$2_\([^_]*\)_.*/\1/p" "$1" | sed 's/%3a/:/' | head -n 1
}

work=$roots/$suite-$key.tmp
rm -rf "$work"
mkdir -p "$work"

# fill DIR LISTFILE SKIP-REGEX PKG...
fill() {
  local dir=$1 list=$2 skip=$3
  shift 3
  closure "$@" >"$list"
  [ -s "$list" ] || { cat "$aptdir/resolve.err" >&2; die "cannot resolve $* on $suite"; }
  log "guest: downloading $(wc -l <"$list") arm64 packages of $suite for $(basename "$dir")"
  papt install --download-only "$@" >"$aptdir/download.log" 2>&1 ||
    { tail -n 20 "$aptdir/download.log" >&2; die "download of $* failed"; }
  mkdir -p "$dir"
  local n=0 total deb name
  total=$(wc -l <"$list")
  while read -r deb; do
    n=$((n + 1))
    name=${deb%%_*}
    if [ -n "$skip" ] && [[ $name =~ $skip ]]; then
      continue
    fi
    [ -f "$aptdir/archives/$deb" ] || die "missing download $deb"
    dpkg-deb -x "$aptdir/archives/$deb" "$dir"
    if [ $((n % 50)) -eq 0 ] || [ "$n" -eq "$total" ]; then
      log "guest: unpacked $n/$total into $(basename "$dir")"
    fi
  done <"$list"
  # Documentation, manuals and translations are of no use in the guest.
  rm -rf "$dir"/usr/share/{doc,man,info,locale,lintian,bug,gtk-doc,help}
  # Merged /usr, as an installed Debian system has it.
  local d
  for d in bin sbin lib; do
    if [ -d "$dir/$d" ] && [ ! -L "$dir/$d" ]; then
      mkdir -p "$dir/usr/$d"
      cp -a "$dir/$d/." "$dir/usr/$d/"
      rm -rf "${dir:?}/$d"
    fi
    ln -sfn "usr/$d" "$dir/$d"
  done
}

fill "$work/rootfs" "$work/rootfs.debs" "" "${rootfs_pkgs[@]}"

# The GStreamer this suite has must be the one its name stands for (sid
# moves: when it has another, the results would be labelled wrongly).
gst_ver=$(version_in "$work/rootfs.debs" libgstreamer1.0-0)
case $gst_ver in
  "$GUEST_GST".*) ;;
  *) die "$suite has GStreamer $gst_ver, not $GUEST_GST: scripts/guest/lib.sh must name it" ;;
esac
weston_ver=$(version_in "$work/rootfs.debs" weston)

# What a chroot needs and dpkg's maintainer scripts would have made.
r=$work/rootfs
mkdir -p "$r"/{dev,proc,sys,tmp,run,root,var/tmp,etc} \
  "$r$GUEST_MNT_BUILD" "$r$GUEST_MNT_SRC" "$r$GUEST_MNT_TOOLS" "$r$GUEST_MNT_JOB" \
  "$r$GUEST_MNT_ASAN"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\nvideo:x:44:\ninput:x:101:\nrender:x:102:\nseat:x:103:\n' >"$r/etc/group"
# busybox-static ships /bin/busybox only; the guest scripts call
# "busybox sh", but a /bin/sh is expected by system() and popen().
[ -e "$r/usr/bin/sh" ] || ln -s busybox "$r/usr/bin/sh"
# python3-minimal's postinst makes this link.
if [ ! -e "$r/usr/bin/python3" ]; then
  py=$(cd "$r/usr/bin" && ls python3.[0-9]* 2>/dev/null | grep -E '^python3\.[0-9]+$' | sort -V | tail -n 1)
  [ -z "$py" ] || ln -s "$py" "$r/usr/bin/python3"
fi

# Every shared object the GStreamer tools and plugins (and Weston) need must
# be there (no maintainer script ran, so e.g. an alternatives link would be
# missing).
log "guest: checking that every library the plugins need is present"
libdirs=("$r/usr/lib/aarch64-linux-gnu" "$r/usr/lib")
have_lib() {
  local d
  for d in "${libdirs[@]}"; do
    [ -e "$d/$1" ] && return 0
  done
  find "$r/usr/lib/aarch64-linux-gnu" -name "$1" -print -quit | grep -q .
}
scan=("$r/usr/bin" "$r/usr/lib/aarch64-linux-gnu/gstreamer-1.0"
  "$r/usr/lib/aarch64-linux-gnu/gstreamer1.0")
[ -d "$r/usr/lib/aarch64-linux-gnu/weston" ] && scan+=("$r/usr/lib/aarch64-linux-gnu/weston")
[ -d "$r/usr/lib/aarch64-linux-gnu/libweston-${weston_ver%%.*}" ] &&
  scan+=("$r/usr/lib/aarch64-linux-gnu/libweston-${weston_ver%%.*}")
missing=$(
  find "${scan[@]}" -type f \( -name 'gst-*' -o -name 'weston*' -o -name '*.so' \) -print0 |
    xargs -0 aarch64-linux-gnu-readelf -d 2>/dev/null |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u |
    while read -r lib; do have_lib "$lib" || echo "$lib"; done
)
if [ -n "$missing" ]; then
  log "guest: warning: libraries needed but absent: $(echo $missing)"
fi

fill "$work/sysroot" "$work/sysroot.debs" "$sysroot_skip" "${sysroot_pkgs[@]}"

secs=$(since "$t0")
{
  echo "suite=$suite"
  echo "gstreamer=$gst_ver"
  echo "weston=${weston_ver:-none}"
  echo "rootfs-packages=$(wc -l <"$work/rootfs.debs")"
  echo "rootfs-size=$(du -sm "$work/rootfs" | cut -f1) MiB"
  echo "sysroot-packages=$(wc -l <"$work/sysroot.debs")"
  echo "sysroot-size=$(du -sm "$work/sysroot" | cut -f1) MiB"
  echo "assembled=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $secs s"
} >"$work/info"
# What the tree holds: the recipe and the packages (a refresh of the same
# recipe may bring others).
echo "$key $(sha256sum <"$work/rootfs.debs" | cut -c1-16)" >"$work/rootfs/.stamp"
echo "$key $(sha256sum <"$work/sysroot.debs" | cut -c1-16)" >"$work/sysroot/.stamp"
touch "$work/.complete"

if [ -d "$tree" ]; then
  if [ $force -eq 0 ] && [ -f "$tree/.complete" ] &&
    cmp -s "$tree/rootfs.debs" "$work/rootfs.debs" &&
    cmp -s "$tree/sysroot.debs" "$work/sysroot.debs"; then
    log "guest: $suite: no package changed since $(sed -n 's/^assembled=//p' "$tree/info")"
    rm -rf "$work"
  else
    # A guest may still read the old one: moved aside, removed a day later.
    mv "$tree" "$tree.old-$(date +%s)"
    mv "$work" "$tree"
  fi
else
  mv "$work" "$tree"
fi

# Keep only the .debs of the current closures.
cat "$tree/rootfs.debs" "$tree/sysroot.debs" | sort -u >"$aptdir/keep"
find "$aptdir/archives" -maxdepth 1 -name '*.deb' -printf '%f\n' |
  { grep -vxF -f "$aptdir/keep" || true; } |
  while read -r old; do rm -f "$aptdir/archives/$old"; done

log "guest: $suite: $(tr '\n' ' ' <"$tree/info")"
done_trees
