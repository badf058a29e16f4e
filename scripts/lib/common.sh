# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it, do not run it:
#
#   . "$top/scripts/lib/common.sh"
#
# Provides:
#   CACHE              directory for everything downloaded or built outside
#                      the repository (created on first use)
#   log MSG...         progress message on stderr, with a time stamp
#   die MSG...         log an error and exit 1
#   need_pkgs PKG...   apt-get install the Debian packages that are missing
#                      (PKG may be arch-qualified, e.g. busybox-static:arm64);
#                      runs `apt-get update` once if the first attempt fails.
#                      Returns non-zero if they still cannot be installed.

CACHE=${GST_DMAHEAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-dmaheap}
mkdir -p "$CACHE"

log() {
  printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
  log "error: $*"
  exit 1
}

# True if the package is installed (configured) on this machine.
pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

need_pkgs() {
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  local apt=(apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >&2; then
    log "apt-get install failed, updating the package lists and retrying"
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 &&
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >&2 ||
      { log "could not install ${missing[*]}"; return 1; }
  fi
}
