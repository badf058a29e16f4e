# shellcheck shell=sh
# Real pipelines inside the guest, each asserted (busybox sh).
#
#   . /mnt/src/scripts/guest/checks.sh    (from a job's run.sh, after
#                                          guest-lib.sh)
#
# Every pipeline runs under /mnt/tools/gst-dmaheap-probe, which reports what
# the sinks received (count, dma-buf or not, exporting heap from the
# kernel's fdinfo), checksums of the visible pixels, the "stats" of every
# element and, on request, the kernel's dma-buf list and vkms CRCs.
#
# Prints
#   GUEST-CHECKS name name ...        the checks about to run
#   GUEST-CHECK NAME PASS
#   GUEST-CHECK NAME FAIL reason; reason
#   GUEST-CHECKLOG NAME line          details of a failed check
#   GUEST-INFO NAME text              facts worth showing (frames, bytes)
#   GUEST-CHECKS-DONE

PROBE=/mnt/tools/gst-dmaheap-probe
CK=/tmp/checks
mkdir -p $CK
FRAMES=${FRAMES:-30}

ck_name=
ck_why=
ck_logs=

# ck_begin NAME: start a check; false if it is not selected (GUEST_ONLY).
ck_begin() {
  ck_name=$1
  ck_why=
  ck_logs=
  selected "$1"
}

# ck_fail REASON: the current check failed for REASON (more may follow).
ck_fail() {
  ck_why="${ck_why:+$ck_why; }$*"
}

ck_end() {
  if [ -z "$ck_why" ]; then
    echo "GUEST-CHECK $ck_name PASS"
  else
    echo "GUEST-CHECK $ck_name FAIL $ck_why"
    for _l in $ck_logs; do
      grep -v '^PROBE-BUFINFO' "$_l" | tail -n 40 | sed "s|^|GUEST-CHECKLOG $ck_name |"
    done
  fi
}

# probe TAG PROBE-ARGS...: run the probe, output in $CK/<check>.TAG, status
# in $prc, file name in $pout.
probe() {
  pout=$CK/$(echo "$ck_name" | tr '/@,' '___').$1
  shift
  ck_logs="$ck_logs $pout"
  echo "PROBE-COMMAND $*" >"$pout"
  # GStreamer's leaks tracer: what is still alive when the probe has
  # unreffed everything and called gst_deinit() is logged as object-alive
  GST_TRACERS=leaks GST_DEBUG="${GST_DEBUG:+$GST_DEBUG,}GST_TRACER:7" GST_DEBUG_NO_COLOR=1 \
    "$PROBE" "$@" >>"$pout" 2>&1
  prc=$?
  if [ $prc -ne 0 ]; then
    ck_fail "pipeline ended with status $prc ($(grep -m1 '^PROBE-ERROR' "$pout" | cut -c13-200))"
  fi
  check_leaks "$pout"
  return $prc
}

# GStreamer 1.22's v4l2src and v4l2sink are never finalized (two refs on
# the element stay, with gst-launch-1.0 and fakesink alone too), and keep
# their pool, allocators, a pad, caps and the device open. With them, these
# types may be alive, and fds other than dma-bufs may stay open; with the
# allocator they hold, one heap node each.
# Each keeps V4L2_PINNED_FDS fds of its own open (measured in the guest on
# GStreamer 1.22.0: 5 for v4l2src and for v4l2sink, heap nodes apart, and
# 5 more at each start of the same v4l2src).
V4L2_PINNED_FDS=5
# v4l2convert (GstV4l2Transform) is not finalized either, and keeps the
# fds of its two queues: 10 (measured the same way, with vim2m).
V4L2_M2M_PINNED_FDS=10
V4L2_PINNED=" GstV4l2Src GstV4l2Sink v4l2convert GstV4l2BufferPool GstV4l2Allocator GstCaps GstPad GstDmaBufAllocator GstDmaHeapAllocator "

# check_leaks FILE: every object finalized and every fd closed after the
# pipeline, apart from what leaked v4l2 elements pin.
check_leaks() {
  # with no leaks tracer there would be no object-alive lines either
  grep -q '^PROBE-TRACERS .*leaks' "$1" ||
    ck_fail "the leaks tracer was not active ($(grep -m1 '^PROBE-TRACERS' "$1"))"
  _alive=$(grep -o 'object-alive, type-name=(string)[A-Za-z0-9_]*' "$1" | cut -d')' -f2 | sort)
  _v4l2=$(echo "$_alive" | grep -c '^GstV4l2S')
  _m2m=$(echo "$_alive" | grep -c '^v4l2convert$')
  _fds=$(sed -n 's/^PROBE-FDS //p' "$1")
  if [ -z "$_fds" ]; then
    ck_fail "no fd count from the probe"
    return
  fi
  _b=$(echo "$_fds" | field_values before)
  _a=$(echo "$_fds" | field_values after)
  _db=$(echo "$_fds" | field_values dmabuf-before)
  _da=$(echo "$_fds" | field_values dmabuf-after)
  _hb=$(echo "$_fds" | field_values heap-before)
  _ha=$(echo "$_fds" | field_values heap-after)
  if [ "$_v4l2" -eq 0 ] && [ "$_m2m" -eq 0 ]; then
    [ -z "$_alive" ] ||
      ck_fail "objects alive at exit (leaks tracer): $(echo "$_alive" | uniq -c | tr -s ' \n' ' ')"
    [ "$_b" = "$_a" ] || ck_fail "open fds before the pipeline $_b, after it $_a"
    return
  fi
  _other=
  for _t in $_alive; do
    case "$V4L2_PINNED" in
      *" $_t "*) ;;
      *) _other="$_other $_t" ;;
    esac
  done
  [ -z "$_other" ] || ck_fail "objects alive at exit besides the leaked v4l2 elements:$_other"
  [ "$_da" = "$_db" ] || ck_fail "dma-buf fds before the pipeline $_db, after it $_da"
  # exactly what the leaked elements keep: V4L2_PINNED_FDS of their own
  # each, and a leaked v4l2src the heap node of the allocator it was given
  _src=$(echo "$_alive" | grep -c '^GstV4l2Src$')
  expect_eq "heap fds kept by $_src leaked v4l2src" "$((_ha - _hb))" "$_src"
  # (they keep that many again at every start: probe_starts, for probe -r)
  expect_eq "fds kept by $_v4l2 leaked v4l2 element(s) and $_m2m v4l2convert over ${probe_starts:-1} start(s)" \
    "$((_a - _b))" "$(((_v4l2 * V4L2_PINNED_FDS + _m2m * V4L2_M2M_PINNED_FDS) * ${probe_starts:-1} + _src))"
  echo "GUEST-INFO $ck_name upstream leak: $((_v4l2 + _m2m)) v4l2 element(s) not finalized, $((_a - _b)) fds kept ($((_ha - _hb)) heap node)"
}

# sink_field FILE SINK KEY: a key=value of the PROBE-SINK line of SINK
sink_field() {
  awk -v sink="name=$2" -v key="$3" '
    $1 == "PROBE-SINK" && $2 == sink {
      for (i = 3; i <= NF; i++)
        if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit }
    }' "$1"
}

stat_field() {
  probe_stat "$@"
}

# run_stat FILE RUN ELEMENT KEY: a field of the "stats" of ELEMENT at the
# end of run RUN (probe -r)
run_stat() {
  sed -E -n "s/^PROBE-RUNSTATS run=$2 name=$3 .*[ ,]$4=\([a-z0-9]+\)(\"[^\"]*\"|[^,;]*).*/\1/p" "$1" |
    head -n 1 | sed -e 's/^"//' -e 's/"$//' -e 's/\\\(.\)/\1/g'
}

# run_sink FILE RUN SINK KEY: buffers= or dmabuf= of SINK in run RUN
run_sink() {
  awk -v run="run=$2" -v sink="name=$3" -v key="$4" '
    $1 == "PROBE-RUN" && $2 == run && $3 == sink {
      for (i = 4; i <= NF; i++)
        if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit }
    }' "$1"
}

# The resident memory a long run may gain once the pool and the display
# are set up: 64 KiB over the whole run, about 24 bytes a frame for 2700
# frames. A leak of a frame's worth of bookkeeping (a caps, a structure,
# a buffer struct: 100 bytes and more) goes over it; at 30 fps the budget
# is what a day's run of 2.6 million frames may gain in all if nothing
# grows per frame.
RSS_BUDGET_KB=64

# rss_growth SAMPLES: kB the resident memory rose from the first of the
# PROBE-SAMPLE lines to the highest later one
rss_growth() {
  echo "$1" | field_values rss-kb | awk 'NR == 1 { first = $1; max = $1 }
    $1 > max { max = $1 } END { print max - first }'
}

sum_of() {
  sed -n "s/^PROBE-SUM name=$2 .*sha1=\([0-9a-f]*\).*/\1/p" "$1" | head -n 1
}

# field_values KEY: the values of KEY=... in the lines on stdin, one a line
field_values() {
  tr ' ' '\n' | sed -n "s/^$1=//p"
}

# expect_constant LINES WHEN KEY...: each KEY=... has one value in all of
# LINES (PROBE-SAMPLE or PROBE-CYCLE lines); WHEN says where, in the reason
expect_constant() {
  _lines=$1 _when=$2
  shift 2
  for _k in "$@"; do
    _vals=$(echo "$_lines" | field_values "$_k" | sort -u | tr '\n' ' ')
    [ "$(echo $_vals | wc -w)" -eq 1 ] || ck_fail "$_k $_when: $_vals"
  done
}

# expect_eq WHAT GOT WANT
expect_eq() {
  [ "$2" = "$3" ] || ck_fail "$1 is '$2', want '$3'"
}

# expect_zero_copy FILE HEAP FRAMES: dmaheapupload "up" passed every buffer
# through, none copied, on HEAP; the sink got FRAMES dma-bufs of HEAP.
expect_zero_copy() {
  expect_eq "copied" "$(stat_field "$1" up copied)" 0
  expect_eq "passed-through" "$(stat_field "$1" up passed-through)" "$3"
  expect_eq "heap in stats" "$(stat_field "$1" up heap)" "$2"
}

expect_sink_heap() {
  expect_eq "$2 buffers" "$(sink_field "$1" "$2" buffers)" "$4"
  expect_eq "$2 dma-bufs" "$(sink_field "$1" "$2" dmabuf)" "$4"
  expect_eq "exporter of $2 buffers" "$(sink_field "$1" "$2" exporters)" "$3"
}

# expect_region HEAP BEFORE AFTER: the CMA counters rose for the area of
# HEAP and for no other (none at all for the system heap).
expect_region() {
  _area=$(cma_area "$1")
  _rose=$(cma_delta "$2" "$3" | tr '\n' ' ')
  _want=
  [ -n "$_area" ] && _want="$_area"
  _got=$(echo "$_rose" | tr ' ' '\n' | sed -n 's/=.*//p' | tr '\n' ' ')
  expect_eq "CMA areas whose alloc_pages_success rose" "${_got% }" "$_want"
  ck_delta=$_rose
}

# expect_attached FILE HEAP DEVICE...: halfway through (PROBE-BUFINFO) the
# buffers of HEAP were attached to each DEVICE (a driver imported them)
expect_attached() {
  _f=$1 _hp=$2
  shift 2
  ck_attached=$(attached_devices "$_f" "$_hp")
  for _d in "$@"; do
    case " ${ck_attached#* } " in
      *" $_d"*) ;;
      *) ck_fail "no buffer of $_hp attached to $_d in bufinfo (attached: ${ck_attached})" ;;
    esac
  done
}

# --- the checks -------------------------------------------------------------

cap_dev=$(vivid_capture)
cap_contig=$(vivid_capture_contig)
out_dev=$(vivid_output)
m2m_dev=$(v4l2_node vim2m)
enc_dev=$(v4l2_node stateful-encoder)
dec_dev=$(v4l2_node stateful-decoder)
# The heaps are the ones the rig's layout declares (the host wrote them
# into the job), never what the guest happens to have: a declared heap
# that is missing fails its checks instead of removing them.
. /mnt/src/scripts/guest/plan.sh
plan_heaps $(cat /mnt/job/heaps.declared)
all_heaps=$plan_all
named=$plan_named
cma_heaps=$plan_cma
legacy=$plan_legacy
region=$plan_region

check_devices() {
  ck_begin devices || return 0
  echo "GUEST-INFO devices heaps: $(heaps_all | tr '\n' ' ')"
  echo "GUEST-INFO devices cma areas: $(ls $CMA_SYSFS | tr '\n' ' ')"
  echo "GUEST-INFO devices vivid capture: ${cap_dev:-none}, output: ${out_dev:-none}, dma-contig capture: ${cap_contig:-none}"
  [ -n "$cap_dev" ] || ck_fail "no vivid capture device"
  [ -n "$cap_contig" ] || ck_fail "no dma-contig vivid capture device"
  [ -n "$out_dev" ] || ck_fail "no vivid output device"
  echo "GUEST-INFO devices vim2m: ${m2m_dev:-none}, vicodec encoder: ${enc_dev:-none}, decoder: ${dec_dev:-none}"
  [ -n "$m2m_dev" ] || ck_fail "no vim2m device"
  [ -n "$enc_dev" ] && [ -n "$dec_dev" ] || ck_fail "no vicodec encoder and decoder"
  _vkms=$(grep -l '^vkms' /sys/kernel/debug/dri/*/name 2>/dev/null | head -n 1)
  echo "GUEST-INFO devices DRM: $(cat /sys/kernel/debug/dri/*/name 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')"
  [ -n "$_vkms" ] || ck_fail "no vkms DRM device"
  [ -r /sys/kernel/debug/dma_buf/bufinfo ] || ck_fail "no dma_buf/bufinfo in debugfs"
  # exactly the heaps the layout declares
  for h in $(cat /mnt/job/heaps.declared); do
    [ -c "$HEAP_DIR/$h" ] || ck_fail "declared heap $h is not in $HEAP_DIR"
  done
  for h in $(heaps_all); do
    grep -q -x -F -e "$h" /mnt/job/heaps.declared ||
      ck_fail "heap $h is in $HEAP_DIR but the layout does not declare it"
  done
  [ -n "$named" ] || ck_fail "the layout declares no named region heap"
  ck_end
}

check_inspect() {
  ck_begin gst-inspect-dmaheapupload || return 0
  _t0=$(now)
  gst-inspect-1.0 dmaheapupload >$CK/inspect.out 2>&1 || ck_fail "gst-inspect-1.0 failed"
  echo "GUEST-INFO gst-inspect-dmaheapupload first gst-inspect-1.0 took $(echo "$(now) $_t0" | awk '{print $1 - $2}') s"
  for w in heap stats allow-copy min-buffers; do
    grep -q "$w" $CK/inspect.out || ck_fail "no '$w' in the output"
  done
  for h in $named; do
    grep -q "$h" $CK/inspect.out || ck_fail "heap $h not listed in the heap property"
  done
  ck_logs=$CK/inspect.out
  ck_end
}

# camera -> dmaheapupload heap=H -> display: zero copy, memory of H, the
# display imported our buffers.
#   camera_kms CHECK CAMERA HEAP IMPORTER...: IMPORTER... are the drivers
#   whose attachments to our buffers bufinfo must show
camera_kms() {
  _check=$1 _cam=$2 _heap=$3
  shift 3
  ck_begin "$_check[$_heap]" || return 0
  _before=$(cma_counts)
  probe run -t 180 -b $((FRAMES / 2)) \
    v4l2src device="$_cam" io-mode=dmabuf-import num-buffers=$FRAMES \
    ! video/x-raw,format=BGRx,width=640,height=480 \
    ! dmaheapupload name=up heap="$_heap" \
    ! kmssink name=kms driver-name=vkms sync=false
  _after=$(cma_counts)
  expect_zero_copy "$pout" "$_heap" $FRAMES
  expect_sink_heap "$pout" kms "$_heap" $FRAMES
  expect_eq "frames rendered by kmssink" "$(stat_field "$pout" kms rendered)" $FRAMES
  expect_attached "$pout" "$_heap" "$@"
  expect_region "$_heap" "$_before" "$_after"
  echo "GUEST-INFO $ck_name frames=$(stat_field "$pout" kms rendered) copies=$(stat_field "$pout" up copied) attached=[$ck_attached] cma-pages=${ck_delta:-none} $(grep '^PROBE-RESULT' "$pout" | cut -d' ' -f3)"
  ck_end
}

check_camera_kms() {
  camera_kms camera-kms "$cap_dev" "$1" vkms
}

# The same with the camera that imports by attaching (dma-contig, like a
# camera without IOMMU): it needs contiguous memory, a CMA region.
check_camera_contig_kms() {
  camera_kms camera-contig-kms "$cap_contig" "$1" vivid vkms
}

# videotestsrc fills the pool dmaheapupload proposes: zero copy to kmssink.
check_testsrc_kms() {
  _heap=$1 _w=${2:-640} _h=${3:-480}
  ck_begin "testsrc-kms[$_heap,${_w}x$_h]" || return 0
  _before=$(cma_counts)
  probe run -t 180 \
    videotestsrc num-buffers=$FRAMES \
    ! video/x-raw,format=BGRx,width=$_w,height=$_h \
    ! dmaheapupload name=up heap="$_heap" \
    ! kmssink name=kms driver-name=vkms sync=false
  _after=$(cma_counts)
  expect_zero_copy "$pout" "$_heap" $FRAMES
  expect_sink_heap "$pout" kms "$_heap" $FRAMES
  expect_eq "frames rendered by kmssink" "$(stat_field "$pout" kms rendered)" $FRAMES
  expect_region "$_heap" "$_before" "$_after"
  ck_end
}

# videotestsrc -> dmaheapupload -> vivid output, imported by the driver.
# vivid's output 0 is an S-Video one (interlaced SD standards only); output
# 1 is HDMI and takes any progressive size. GStreamer 1.22's v4l2sink wants
# RGB caps to say sRGB to match what the driver reports.
check_testsrc_v4l2sink() {
  _fmt=$1 _w=$2 _h=$3 _extra=
  ck_begin "testsrc-v4l2sink[$_fmt,${_w}x$_h]" || return 0
  v4l2-ctl -d "$out_dev" -o 1 >/dev/null 2>&1 ||
    ck_fail "cannot select the HDMI output of $out_dev"
  case $_fmt in BGRx|RGBx|xRGB|xBGR) _extra=,colorimetry=sRGB ;; esac
  probe run -t 180 \
    videotestsrc num-buffers=$FRAMES \
    ! video/x-raw,format=$_fmt,width=$_w,height=$_h,framerate=30/1$_extra \
    ! dmaheapupload name=up heap="$region" \
    ! v4l2sink name=out device="$out_dev" io-mode=dmabuf-import sync=false
  expect_zero_copy "$pout" "$region" $FRAMES
  expect_sink_heap "$pout" out "$region" $FRAMES
  ck_end
}

# Pixels through the heap, both ways: videotestsrc filling our pool (zero
# copy) and system memory copied in by dmaheapupload (identity
# drop-allocation keeps upstream off our pool). The visible pixels the sink
# gets must equal what videotestsrc makes without the element.
check_pixels() {
  _fmt=$1 _w=$2 _h=$3 _n=4
  _caps="video/x-raw,format=$_fmt,width=$_w,height=$_h"
  ck_begin "pixels[$_fmt,${_w}x$_h]" || return 0
  probe ref -t 120 -c videotestsrc num-buffers=$_n pattern=smpte ! "$_caps" \
    ! fakesink name=sink
  _ref=$(sum_of "$pout" sink)
  probe zc -t 120 -c videotestsrc num-buffers=$_n pattern=smpte ! "$_caps" \
    ! dmaheapupload name=up heap="$region" ! fakesink name=sink
  expect_zero_copy "$pout" "$region" $_n
  expect_sink_heap "$pout" sink "$region" $_n
  expect_eq "pixels through the pool (sha1)" "$(sum_of "$pout" sink)" "$_ref"
  probe copy -t 120 -c videotestsrc num-buffers=$_n pattern=smpte ! "$_caps" \
    ! identity drop-allocation=true \
    ! dmaheapupload name=up heap="$region" ! fakesink name=sink
  expect_eq "copied" "$(stat_field "$pout" up copied)" $_n
  expect_sink_heap "$pout" sink "$region" $_n
  expect_eq "pixels copied in (sha1)" "$(sum_of "$pout" sink)" "$_ref"
  [ -n "$_ref" ] || ck_fail "no reference checksum"
  ck_end
}

# What vkms composed: same CRC through our heap as through kmssink's own
# dumb buffers.
check_kms_crc() {
  _heap=$1
  ck_begin "kms-crc[$_heap]" || return 0
  _src="videotestsrc num-buffers=$FRAMES pattern=smpte ! video/x-raw,format=BGRx,width=640,height=480"
  # shellcheck disable=SC2086
  probe native -t 180 -k 10 $_src ! kmssink name=kms driver-name=vkms sync=false
  _native=$(sed -n 's/^PROBE-CRC 0x[0-9a-f]* \(0x[0-9a-f]*\).*/\1/p' "$pout" | tail -n 1)
  # shellcheck disable=SC2086
  probe heap -t 180 -k 10 $_src ! dmaheapupload name=up heap="$_heap" \
    ! kmssink name=kms driver-name=vkms sync=false
  _ours=$(sed -n 's/^PROBE-CRC 0x[0-9a-f]* \(0x[0-9a-f]*\).*/\1/p' "$pout" | tail -n 1)
  expect_zero_copy "$pout" "$_heap" $FRAMES
  [ -n "$_native" ] || ck_fail "no CRC from vkms for the native path"
  expect_eq "CRC of the composed frame" "$_ours" "$_native"
  echo "GUEST-INFO kms-crc[$_heap] native=$_native heap=$_ours"
  ck_end
}

# Not video: a file through the heap, byte for byte.
check_bytes() {
  ck_begin "bytes[$region]" || return 0
  _in=/mnt/tools/gst-dmaheap-probe
  probe run -t 120 filesrc location=$_in blocksize=65536 \
    ! dmaheapupload name=up heap="$region" \
    ! filesink name=sink location=$CK/bytes.out
  cmp -s "$_in" $CK/bytes.out || ck_fail "the file that came out differs"
  _n=$(sink_field "$pout" sink buffers)
  expect_eq "dma-bufs at the sink" "$(sink_field "$pout" sink dmabuf)" "$_n"
  expect_eq "exporter" "$(sink_field "$pout" sink exporters)" "$region"
  expect_eq "bytes copied" "$(stat_field "$pout" up bytes-copied)" "$(wc -c <"$_in" | tr -d ' ')"
  ck_end
}

# A long camera-to-display run: after the first samples (pool filled,
# display set up), the process's fds, dma-buf mappings and the free CMA
# memory stay put, and its resident memory does not grow; the sink saw no
# more distinct memories than the pool holds.
LONG_FRAMES=${LONG_FRAMES:-3000}
check_long_run() {
  _heap=$1
  ck_begin "long-run[$_heap]" || return 0
  _every=$((LONG_FRAMES / 10))
  probe run -t $((LONG_FRAMES / 5 + 120)) -s $_every \
    v4l2src device="$cap_dev" io-mode=dmabuf-import num-buffers=$LONG_FRAMES \
    ! video/x-raw,format=BGRx,width=640,height=480 \
    ! dmaheapupload name=up heap="$_heap" \
    ! kmssink name=kms driver-name=vkms sync=false
  expect_zero_copy "$pout" "$_heap" $LONG_FRAMES
  expect_eq "frames rendered by kmssink" "$(stat_field "$pout" kms rendered)" $LONG_FRAMES
  _mems=$(sink_field "$pout" kms memories)
  # distinct dma-bufs (by inode): a pool that reallocated would show many
  [ "${_mems:-99}" -le 16 ] || ck_fail "the sink saw $_mems distinct dma-bufs (the pool was not reused)"
  # samples 2..10: the first one may still see the pool and display grow
  _samples=$(grep '^PROBE-SAMPLE' "$pout" | sed -n '2,$p')
  expect_eq "samples" "$(echo "$_samples" | grep -c .)" 9
  expect_constant "$_samples" "changed during the run" fds dmabuf-maps cma-free-kb
  _rss=$(echo "$_samples" | field_values rss-kb)
  _rss_first=$(echo "$_rss" | head -n 1)
  _rss_last=$(echo "$_rss" | tail -n 1)
  _grew=$(rss_growth "$_samples")
  [ "$_grew" -le $RSS_BUDGET_KB ] ||
    ck_fail "resident memory grew by $_grew kB (budget $RSS_BUDGET_KB kB): from $_rss_first to $_rss_last kB"
  # zero-copy seen from the sink too: every frame a dma-buf of the heap
  expect_sink_heap "$pout" kms "$_heap" $LONG_FRAMES
  echo "GUEST-INFO $ck_name frames=$(stat_field "$pout" kms rendered) copies=$(stat_field "$pout" up copied) memories=$_mems rss-kb=$_rss_first..$_rss_last $(echo "$_samples" | tail -n 1 | cut -d' ' -f3-4,6) $(grep '^PROBE-RESULT' "$pout" | cut -d' ' -f3)"
  ck_end
}

# The long run's budget can fail: the same pipeline, shorter, with the
# probe leaking 1 KiB per frame (-l), must go over it.
LEAK_FRAMES=${LEAK_FRAMES:-600}
check_long_run_leak() {
  _heap=$1
  ck_begin "long-run-leak[$_heap]" || return 0
  probe run -t $((LEAK_FRAMES / 5 + 120)) -s $((LEAK_FRAMES / 10)) -l 1024 \
    v4l2src device="$cap_dev" io-mode=dmabuf-import num-buffers=$LEAK_FRAMES \
    ! video/x-raw,format=BGRx,width=640,height=480 \
    ! dmaheapupload name=up heap="$_heap" \
    ! kmssink name=kms driver-name=vkms sync=false
  _samples=$(grep '^PROBE-SAMPLE' "$pout" | sed -n '2,$p')
  expect_eq "samples" "$(echo "$_samples" | grep -c .)" 9
  _grew=$(rss_growth "$_samples")
  # 8 intervals of 60 frames leaking 1 KiB each: 480 kB
  [ "$_grew" -gt $RSS_BUDGET_KB ] ||
    ck_fail "a leak of 1 KiB per frame grew resident memory by only $_grew kB, within the budget of $RSS_BUDGET_KB kB: the long-run bound cannot fail"
  echo "GUEST-INFO $ck_name leaking 1 KiB/frame: grew $_grew kB over $((LEAK_FRAMES * 8 / 10)) frames (budget $RSS_BUDGET_KB kB)"
  ck_end
}

# One camera-to-display pipeline taken to its end and back to NULL 20
# times: after each run the same dma-buf fds, heap nodes and dma-buf
# mappings are open. (GStreamer 1.22's v4l2src keeps its pool and the
# allocator it was given at every start; dmaheapupload gives it the same
# allocator each time, so no heap node piles up. The fds v4l2src keeps for
# itself are reported.)
check_camera_cycles() {
  _heap=$1
  ck_begin "camera-cycles[$_heap]" || return 0
  probe_starts=20
  probe run -t 300 -r 20 \
    v4l2src device="$cap_dev" io-mode=dmabuf-import num-buffers=5 \
    ! video/x-raw,format=BGRx,width=640,height=480 \
    ! dmaheapupload name=up heap="$_heap" \
    ! kmssink name=kms driver-name=vkms sync=false
  expect_eq "runs" "$(grep -c '^PROBE-CYCLE' "$pout")" 19
  expect_eq "buffers at the sink over the runs" "$(sink_field "$pout" kms buffers)" 100
  # every run zero-copy: its own stats (reset at each start) and what the
  # sink got in it
  _r=1
  while [ $_r -le 20 ]; do
    expect_eq "copied in run $_r" "$(run_stat "$pout" $_r up copied)" 0
    expect_eq "passed-through in run $_r" "$(run_stat "$pout" $_r up passed-through)" 5
    expect_eq "heap in run $_r" "$(run_stat "$pout" $_r up heap)" "$_heap"
    expect_eq "dma-bufs at the sink in run $_r" "$(run_sink "$pout" $_r kms dmabuf)" 5
    _r=$((_r + 1))
  done
  expect_sink_heap "$pout" kms "$_heap" 100
  _cycles=$(grep '^PROBE-CYCLE' "$pout")
  expect_constant "$_cycles" "after the runs" dmabuf-fds heap-fds dmabuf-maps
  _f1=$(echo "$_cycles" | head -n 1 | field_values fds)
  _f19=$(echo "$_cycles" | tail -n 1 | field_values fds)
  probe_starts=
  # v4l2src's own fds grow by exactly what it keeps per start
  expect_eq "fds v4l2src kept from run 1 to run 19" "$((_f19 - _f1))" $((18 * V4L2_PINNED_FDS))
  echo "GUEST-INFO $ck_name runs=20 fds after run 1: $_f1, after run 19: $_f19 (v4l2src's own) $(grep '^PROBE-CYCLE' "$pout" | tail -n 1 | cut -d' ' -f4-) $(grep '^PROBE-RESULT' "$pout" | cut -d' ' -f3)"
  ck_end
}

# camera -> dmaheapupload heap=H -> vim2m (v4l2convert, importing our
# dma-bufs on its OUTPUT queue) -> display. vim2m maps imported dma-bufs
# with vmap and attaches nothing, so bufinfo cannot show the import:
# GStreamer's own log of the converter's sink pool says it imported a
# dma-buf for each frame.
check_m2m_convert_kms() {
  _heap=$1
  ck_begin "m2m-convert-kms[$_heap]" || return 0
  [ -n "$m2m_dev" ] || ck_fail "no vim2m device"
  _before=$(cma_counts)
  _dbg=${GST_DEBUG:-}
  export GST_DEBUG=v4l2bufferpool:6
  probe run -t 180 \
    v4l2src device="$cap_dev" io-mode=dmabuf-import num-buffers=$FRAMES \
    ! video/x-raw,format=RGB,width=640,height=480 \
    ! dmaheapupload name=up heap="$_heap" \
    ! v4l2convert name=conv output-io-mode=dmabuf-import \
    ! video/x-raw,format=RGB16 \
    ! kmssink name=kms driver-name=vkms sync=false
  if [ -n "$_dbg" ]; then export GST_DEBUG="$_dbg"; else unset GST_DEBUG; fi
  _after=$(cma_counts)
  expect_zero_copy "$pout" "$_heap" $FRAMES
  expect_eq "frames rendered by kmssink" "$(stat_field "$pout" kms rendered)" $FRAMES
  _imports=$(grep -c ':<conv:pool[0-9]*:sink> importing dmabuf' "$pout")
  [ "$_imports" -ge $FRAMES ] ||
    ck_fail "v4l2convert's sink pool imported $_imports dma-bufs for $FRAMES frames"
  expect_region "$_heap" "$_before" "$_after"
  echo "GUEST-INFO $ck_name frames=$(stat_field "$pout" kms rendered) copies=$(stat_field "$pout" up copied) imports=$_imports cma-pages=${ck_delta:-none}"
  ck_end
}

# A real H.264 stream, typed caps through h264parse, into the heap: the
# bytes that come out equal those of the same pipeline without the
# element, every buffer a dma-buf of the heap.
check_h264_bytes() {
  _heap=$1
  ck_begin "h264-bytes[$_heap]" || return 0
  _au="video/x-h264,stream-format=byte-stream,alignment=au"
  probe enc -t 120 videotestsrc num-buffers=$FRAMES \
    ! video/x-raw,width=320,height=240 ! openh264enc ! h264parse ! "$_au" \
    ! filesink name=sink location=$CK/h264.in
  probe ref -t 120 filesrc location=$CK/h264.in ! h264parse ! "$_au" \
    ! filesink name=sink location=$CK/h264.ref
  _before=$(cma_counts)
  probe run -t 120 filesrc location=$CK/h264.in ! h264parse ! "$_au" \
    ! dmaheapupload name=up heap="$_heap" \
    ! filesink name=sink location=$CK/h264.out
  _after=$(cma_counts)
  _bytes=$(wc -c <$CK/h264.ref | tr -d ' ')
  [ "${_bytes:-0}" -gt 0 ] || ck_fail "no H.264 stream from openh264enc"
  cmp -s $CK/h264.ref $CK/h264.out || ck_fail "the stream through the heap differs"
  expect_eq "access units" "$(sink_field "$pout" sink buffers)" $FRAMES
  expect_eq "dma-bufs at the sink" "$(sink_field "$pout" sink dmabuf)" $FRAMES
  expect_eq "exporter" "$(sink_field "$pout" sink exporters)" "$_heap"
  expect_eq "bytes copied" "$(stat_field "$pout" up bytes-copied)" "$_bytes"
  expect_region "$_heap" "$_before" "$_after"
  echo "GUEST-INFO $ck_name access-units=$FRAMES bytes=$_bytes cma-pages=${ck_delta:-none}"
  ck_end
}

# --- the plan ---------------------------------------------------------------

plan=$(plan_checks | tr '\n' ' ')
sel=
for c in $plan; do selected "$c" && sel="$sel $c"; done
echo "GUEST-CHECKS$sel"

check_devices
check_inspect
for h in $all_heaps; do check_camera_kms "$h"; done
for h in $cma_heaps; do check_camera_contig_kms "$h"; done
for h in $all_heaps $legacy; do check_testsrc_kms "$h"; done
check_testsrc_kms "$region" 1366 768
check_testsrc_kms "$region" 642 482
for f in BGRx NV12 YUY2; do check_testsrc_v4l2sink $f 640 480; done
check_testsrc_v4l2sink NV12 642 482
for f in BGRx NV12 YUY2; do
  for s in 640x480 1366x768 642x482; do
    check_pixels $f "${s%x*}" "${s#*x}"
  done
done
check_kms_crc "$region"
check_bytes
check_long_run "$region"
check_long_run_leak "$region"
check_camera_cycles "$region"
check_m2m_convert_kms "$region"
check_h264_bytes "$region"
echo "GUEST-CHECKS-DONE"
