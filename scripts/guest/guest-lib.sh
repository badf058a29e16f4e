# shellcheck shell=sh
# Helpers for the scripts that run inside the arm64 guest (busybox sh,
# chrooted in the arm64 root filesystem, see scripts/guest/init). Source it:
#   . /mnt/src/scripts/guest/guest-lib.sh

HEAP_DIR=/dev/dma_heap
CMA_SYSFS=/sys/kernel/mm/cma
export GST_REGISTRY=/tmp/registry/shared.registry
export GST_PLUGIN_PATH_1_0=/mnt/build/gst/dmaheap
# The plugin environment of most tests (scripts/guest/make-job.py): the
# same plugins, hence one registry to build.
mkdir -p /tmp/registry
if [ -f /mnt/job/plugin-env.sh ]; then
  . /mnt/job/plugin-env.sh
fi

# Registries of earlier boots, kept by the host (scripts/guest/boot.sh):
# scanning every plugin takes the emulated CPU some 20 s, and GStreamer
# rescans by itself whatever plugin changed since.
for _r in /mnt/job/registry/*.gz; do
  [ -f "$_r" ] || continue
  _n=$(basename "$_r" .gz)
  [ -f "/tmp/registry/$_n" ] || gunzip -c "$_r" >"/tmp/registry/$_n"
done

# registry_save: print the shared registries for the host to keep.
registry_save() {
  for _r in /tmp/registry/seed-* /tmp/registry/shared.registry; do
    [ -s "$_r" ] || continue
    echo "GUEST-REGISTRY-BEGIN ${_r##*/}"
    gzip -c "$_r" | base64
    echo "GUEST-REGISTRY-END"
  done
}

# Every heap present, one name per line, sorted.
heaps_all() {
  ls -1 "$HEAP_DIR" 2>/dev/null | sort
}

# The legacy names of the default CMA area (the kernel keeps them beside
# default_cma_region): true if $1 is one.
is_legacy_default() {
  case $1 in
    reserved|default-pool|linux,cma|linux,cma@*) return 0 ;;
  esac
  return 1
}

# The heaps the tests run on: system, default_cma_region and every named
# region, one per line (the legacy alias of the default area is the same
# memory as default_cma_region).
heaps_for_tests() {
  heaps_all | while read -r h; do
    is_legacy_default "$h" || echo "$h"
  done
}

# The named regions: CMA heaps other than the default area.
heaps_named() {
  heaps_for_tests | grep -v -x -e system -e default_cma_region
}

# cma_area HEAP: the CMA area a heap allocates from ("" for system).
cma_area() {
  case $1 in
    system) echo "" ;;
    default_cma_region)
      for a in $(ls "$CMA_SYSFS"); do
        if is_legacy_default "$a"; then echo "$a"; return; fi
      done ;;
    *) echo "$1" ;;
  esac
}

# cma_counts: "area=alloc_pages_success" for every CMA area, one per line.
cma_counts() {
  for a in $(ls "$CMA_SYSFS"); do
    echo "$a=$(cat "$CMA_SYSFS/$a/alloc_pages_success")"
  done
}

# cma_delta BEFORE AFTER: "area=increase" for every area whose counter rose.
cma_delta() {
  echo "$2" | while IFS== read -r a n; do
    [ -n "$a" ] || continue
    old=$(echo "$1" | sed -n "s/^$(echo "$a" | sed 's/[.[\*^$]/\\&/g')=//p")
    [ "$n" -gt "${old:-0}" ] && echo "$a=$((n - ${old:-0}))"
  done
}

# The vivid nodes, by the names vivid gives them.
v4l2_node() {
  for d in /sys/class/video4linux/video*; do
    case $(cat "$d/name" 2>/dev/null) in
      *"$1"*) echo "/dev/${d##*/}"; return 0 ;;
    esac
  done
  return 1
}
vivid_capture() { v4l2_node vivid-000-vid-cap; }
vivid_output() { v4l2_node vivid-000-vid-out; }
# The instance that imports with dma-contig (scripts/guest/boot.sh).
vivid_capture_contig() { v4l2_node vivid-001-vid-cap; }

# attached_devices FILE HEAP: from a dump of /sys/kernel/debug/dma_buf/bufinfo
# (lines prefixed "PROBE-BUFINFO "), the number of buffers of HEAP that have
# a device attached, then the names of those devices.
attached_devices() {
  sed -n 's/^PROBE-BUFINFO //p' "$1" | awk -F'\t' -v heap="$2" '
    /^[0-9]+\t[0-9a-f]+\t/ { cur = ($5 == heap); indev = 0; next }
    /^\tAttached Devices:/ { indev = cur; next }
    /^Total [0-9]+ devices attached/ { if (cur && $0 !~ /Total 0 /) n++; cur = 0; indev = 0; next }
    indev && /^\t/ { d = $0; sub(/^\t/, "", d); devs[d] = 1 }
    END { printf "%d", n; for (d in devs) printf " %s", d; printf "\n" }'
}

# selected NAME: true unless $GUEST_ONLY (an extended regular expression,
# see scripts/tier-guest) is set and does not match NAME.
selected() {
  [ -z "${GUEST_ONLY:-}" ] || echo "$1" | grep -q -E -e "$GUEST_ONLY"
}

# probe_stat FILE ELEMENT KEY: a field of the "stats" structure of ELEMENT
# as gst-dmaheap-probe printed it (PROBE-STATS), without quotes or escapes.
probe_stat() {
  sed -E -n "s/^PROBE-STATS name=$2 .*[ ,]$3=\([a-z0-9]+\)(\"[^\"]*\"|[^,;]*).*/\1/p" "$1" |
    head -n 1 | sed -e 's/^"//' -e 's/"$//' -e 's/\\\(.\)/\1/g'
}

now() {
  cut -d' ' -f1 /proc/uptime
}
