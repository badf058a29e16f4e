#!/bin/sh
# gst-launch-1.0 lines with the dmaheap plugin, each with what it shows.
#
#   launch-lines.sh [--list] [--heap SPEC] [--frames N]
#
# Without --list, runs every line whose devices are present (a dma-buf heap
# for all of them; a camera, a display or a V4L2 output for some), each
# with a fixed number of buffers so that it ends, and prints one line per
# pipeline:  PASS: name / FAIL: name (reason) / SKIP: name (reason).
# --list prints the pipelines instead, as a user would type them.
#
# SPEC (default: "default") is the heap spec of the lines that take one.
# The devices are found automatically; override with
#   CAMERA=/dev/videoN   a V4L2 capture device
#   OUTPUT=/dev/videoN   a V4L2 output device that imports dma-bufs
#   KMS_DRIVER=name      the DRM driver kmssink opens (driver-name)
#
# The plugin must be in GStreamer's plugin path: installed, or
#   export GST_PLUGIN_PATH=<build dir>/gst/dmaheap
#
# Exit status: 1 when a pipeline failed; else 77 (a skip, for meson) when
# a line was skipped or none could run; 0 when every line ran and passed.
# With GST_DMA_HEAP_TEST_STRICT=1 (the test guest), a skipped line is a
# failure: exit 1. The closing line names the lines skipped, in any mode.

heap=default
frames=10
list=0
while [ $# -gt 0 ]; do
  case $1 in
    --list) list=1 ;;
    --heap) heap=$2; shift ;;
    --heap=*) heap=${1#--heap=} ;;
    --frames) frames=$2; shift ;;
    --frames=*) frames=${1#--frames=} ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# --- devices ------------------------------------------------------------------

# A heap this user can open: every line needs one.
have_heap() {
  for h in /dev/dma_heap/*; do
    [ -r "$h" ] && return 0
  done
  return 1
}

# (not gst-inspect-1.0 --exists: it also wants the plugin's version to be at
# least GStreamer's, which a plugin outside GStreamer's tree is not)
have_element() {
  gst-inspect-1.0 "$1" >/dev/null 2>&1
}

# The first V4L2 node whose name holds $1 (vivid's camera is
# "vivid-000-vid-cap"; its metadata node "vivid-000-meta-cap" is no
# camera), else for the camera /dev/video0 if it exists.
find_v4l2() {
  for d in /sys/class/video4linux/video*; do
    [ -e "$d/name" ] || continue
    case $(cat "$d/name") in
      *"$1"*) echo "/dev/${d##*/}"; return 0 ;;
    esac
  done
  [ "$1" = vid-cap ] && [ -e /dev/video0 ] && echo /dev/video0
}

# The first DRM card with a connector (cardN-HDMI-A-1...): a display, not a
# render-only device such as vgem.
find_display() {
  for c in /sys/class/drm/card*-*; do
    [ -e "$c" ] || continue
    c=${c##*/}
    echo "${c%%-*}"
    return 0
  done
}

# The driver of that card, from debugfs (readable by root). kmssink opens
# by itself only the drivers it knows (i915, vc4, rockchip...), others need
# driver-name (vkms).
find_kms_driver() {
  [ -n "$display" ] || return 0
  cut -d' ' -f1 "/sys/kernel/debug/dri/${display#card}/name" 2>/dev/null
}

camera=${CAMERA:-$(find_v4l2 vid-cap)}
output=${OUTPUT:-$(find_v4l2 vid-out)}
display=$(find_display)
kms_driver=${KMS_DRIVER:-$(find_kms_driver)}
kms_opts="sync=false${kms_driver:+ driver-name=$kms_driver}"
if [ $list = 1 ]; then
  # placeholders for the devices this machine lacks
  camera=${camera:-/dev/video0}
  output=${output:-/dev/video1}
fi

# --- the lines ------------------------------------------------------------------

n=$frames
failed=0 ran=0 skipped=0 skipped_lines=
strict=0
[ "${GST_DMA_HEAP_TEST_STRICT:-}" = 1 ] && strict=1

# line NAME NEEDS DESCRIPTION PIPELINE
# NEEDS: space-separated among camera, display, output, element:NAME.
line() {
  name=$1 needs=$2 what=$3 pipeline=$4
  if [ $list = 1 ]; then
    printf '# %s\ngst-launch-1.0 %s\n\n' "$what" "$pipeline"
    return
  fi
  missing=
  for need in $needs; do
    case $need in
      camera) [ -n "$camera" ] || missing="no V4L2 capture device" ;;
      output) [ -n "$output" ] || missing="no V4L2 output device" ;;
      display) [ -n "$display" ] || missing="no DRM card with a connector" ;;
      element:*)
        have_element "${need#element:}" ||
          missing="no element ${need#element:}" ;;
    esac
  done
  if [ -n "$missing" ]; then
    if [ $strict = 1 ]; then
      echo "FAIL: $name (skipped in strict mode: $missing)"
      failed=$((failed + 1))
    else
      echo "SKIP: $name ($missing)"
    fi
    skipped=$((skipped + 1))
    skipped_lines="$skipped_lines${skipped_lines:+, }$name ($missing)"
    return
  fi
  log=${TMPDIR:-/tmp}/launch-lines.$$.log
  # shellcheck disable=SC2086
  if gst-launch-1.0 -q $pipeline >"$log" 2>&1; then
    echo "PASS: $name"
  else
    echo "FAIL: $name (gst-launch-1.0 $pipeline)"
    sed 's/^/    /' "$log" | tail -n 15
    failed=$((failed + 1))
  fi
  rm -f "$log"
  ran=$((ran + 1))
}

if [ $list = 0 ]; then
  why=
  if ! command -v gst-launch-1.0 >/dev/null; then
    why="gst-launch-1.0 is not installed"
  elif ! have_heap; then
    why="no dma-buf heap this user can open in /dev/dma_heap"
  fi
  if [ -n "$why" ]; then
    if [ $strict = 1 ]; then
      echo "FAIL: all (skipped in strict mode: $why)"
      exit 1
    fi
    echo "SKIP: all ($why)"
    exit 77
  fi
  if ! have_element dmaheapupload; then
    echo "FAIL: all (no dmaheapupload element: set GST_PLUGIN_PATH)"
    exit 1
  fi
fi

line testsrc-pool "" \
  "videotestsrc draws straight into the pool dmaheapupload offers: zero copy" \
  "videotestsrc num-buffers=$n ! video/x-raw,format=NV12,width=640,height=480 ! dmaheapupload heap=$heap ! fakesink"

line no-copy "" \
  "allow-copy=false turns any copy into an error: proves the zero copy" \
  "videotestsrc num-buffers=$n ! video/x-raw,format=BGRx,width=320,height=240 ! dmaheapupload heap=$heap allow-copy=false ! fakesink"

line copy-in "" \
  "identity drop-allocation=true hides the pool: the frames are copied in" \
  "videotestsrc num-buffers=$n ! video/x-raw,format=I420,width=320,height=240 ! identity drop-allocation=true ! dmaheapupload heap=$heap ! fakesink"

line fallback-list "" \
  "a list is tried in order: a missing or full heap moves on to the next" \
  "videotestsrc num-buffers=$n ! dmaheapupload heap=no-such-heap,$heap,system ! fakesink"

line not-video "element:audiotestsrc" \
  "any caps: non-video buffers are copied into flat heap buffers" \
  "audiotestsrc num-buffers=$n ! dmaheapupload heap=$heap ! fakesink"

line min-buffers "" \
  "min-buffers preallocates at start: a region too small fails at once" \
  "videotestsrc num-buffers=$n ! dmaheapupload heap=$heap min-buffers=6 ! fakesink"

line camera "camera element:v4l2src" \
  "the camera captures into the heap (v4l2src imports the pool's dma-bufs)" \
  "v4l2src device=$camera io-mode=dmabuf-import num-buffers=$n ! video/x-raw,width=640,height=480 ! dmaheapupload heap=$heap allow-copy=false ! fakesink"

line camera-display "camera display element:v4l2src element:kmssink" \
  "camera to display, one heap buffer end to end, no copy" \
  "v4l2src device=$camera io-mode=dmabuf-import num-buffers=$n ! video/x-raw,format=BGRx,width=640,height=480 ! dmaheapupload heap=$heap allow-copy=false ! kmssink $kms_opts"

line testsrc-display "display element:kmssink" \
  "test frames drawn into the heap and shown by kmssink" \
  "videotestsrc num-buffers=$n ! video/x-raw,format=BGRx,width=640,height=480 ! dmaheapupload heap=$heap ! kmssink $kms_opts"

line v4l2-output "output element:v4l2sink" \
  "a V4L2 output device imports the heap buffers (size and rate are the device's)" \
  "videotestsrc num-buffers=$n ! video/x-raw,format=YUY2 ! dmaheapupload heap=$heap ! v4l2sink device=$output io-mode=dmabuf-import sync=false"

if [ $list = 1 ]; then
  cat <<'EOF'
# More to try by hand:
#   gst-inspect-1.0 dmaheapupload         the properties; "heap" lists the heaps present
#   gst-dmaheap-info                      the heaps, who may open them, CMA use
#   GST_DEBUG=dmaheap*:5 gst-launch-1.0 ...   what the allocator and the pool do
#   cat /sys/kernel/debug/dma_buf/bufinfo     the buffers, named after pool and heap
EOF
  exit 0
fi

echo "$ran pipelines run, $failed failed, $skipped skipped${skipped_lines:+: $skipped_lines}"
[ $failed -gt 0 ] && exit 1
[ $skipped -gt 0 ] && exit 77
[ $ran -eq 0 ] && exit 77
exit 0
