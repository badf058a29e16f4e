# shellcheck shell=sh
# Guest side of scripts/bench/run (busybox sh, after guest-lib.sh).
# Inputs: $BENCH (the benchmark program), $ROUNDS (rounds of the CPU per
# frame comparison), $ONLY (empty, or the sections to run, comma
# separated: count,cpu,chain,alloc,pool,copy,map). Runs every measurement and prints, per result,
#   R <id> BENCH-<MODE> key=value ...
# (or R <id> BENCH-ERROR ...), then BENCH-END. Side by side: the
# comparisons alternate within one boot so that they share the load.

export LD_LIBRARY_PATH=/mnt/build/gst/dmaheap
B=/tmp/bench
mkdir -p $B

# bench ID ARGS...: one run of the program, its result lines tagged with ID
bench() {
  _id=$1
  shift
  timeout 60 "$BENCH" "$@" >$B/out 2>$B/err
  _rc=$?
  if grep -q '^BENCH-' $B/out; then
    grep '^BENCH-' $B/out | sed "s|^|R $_id |"
  else
    echo "R $_id BENCH-ERROR status $_rc: $(tail -n 3 $B/err | tr '\n' ' ' | cut -c1-300)"
  fi
}

cap=$(vivid_capture)
region=$(heaps_named | grep '^camera@' | head -n 1)
[ -n "$region" ] || region=$(heaps_named | head -n 1)
[ -n "$region" ] || region=default_cma_region
cma_default=default_cma_region
echo "BENCH-INFO heaps $(heaps_all | tr '\n' ' ')"
echo "BENCH-INFO region $region"
echo "BENCH-INFO camera $cap"
echo "BENCH-INFO drm $(cat /sys/kernel/debug/dri/*/name 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')"
echo "BENCH-INFO cpus $(grep -c ^processor /proc/cpuinfo)"

# The registry once, outside every measurement.
gst-inspect-1.0 dmaheapupload >/dev/null 2>&1

# section NAME: whether the section NAME is to run
section() {
  [ -z "$ONLY" ] && return 0
  case ",$ONLY," in *",$1,"*) return 0 ;; esac
  return 1
}

fourcc() {
  case $1 in BGRx) echo XR24 ;; NV12) echo NV12 ;; *) echo "$1" ;; esac
}

# The highest frame rate vivid offers for FORMAT WIDTH HEIGHT, as caps.
max_rate() {
  v4l2-ctl -d "$cap" --list-frameintervals \
    "width=$2,height=$3,pixelformat=$(fourcc "$1")" 2>/dev/null |
    sed -n 's/.*Discrete [0-9.]*s (\([0-9]*\)\.000 fps).*/\1/p' |
    sort -n | tail -n 1 | awk '$1 > 0 { printf ",framerate=%d/1", $1 }'
}

caps_of() {
  echo "video/x-raw,format=$1,width=$2,height=$3$(max_rate "$1" "$2" "$3")"
}

# The camera's queue says, at debug level 3, when a QBUF brings a dma-buf
# other than the one its buffer index had (videobuf2 then detaches the old
# one and attaches and maps the new one): counted per run, out of the QBUFs.
vb2_debug=/sys/module/videobuf2_common/parameters/debug

# counted ID ARGS...: bench ID ARGS..., then the re-attachments of the run
counted() {
  _cid=$1
  dmesg -c >/dev/null 2>&1
  bench "$@"
  echo "R $_cid BENCH-REATTACH changed=$(dmesg | grep -c 'buffer for plane 0 changed') qbuf=$(dmesg | grep -c 'vb2_core_qbuf: qbuf of buffer')"
}

# ---- per-frame counts on the zero-copy path ---------------------------------
# camera -> dmaheapupload -> display, per heap, format and size. vkms may not
# scan out every format: then fakesink, which does not touch the frames.
if section count; then
  [ -w $vb2_debug ] && echo 3 >$vb2_debug
  for size in 640x480 1920x1080; do
    w=${size%x*} h=${size#*x}
    for fmt in BGRx NV12; do
      caps=$(caps_of $fmt "$w" "$h")
      for heap in "$region" system; do
        counted "count/$heap/$fmt/$size/kmssink" pipe 10 40 \
          v4l2src device="$cap" io-mode=dmabuf-import ! "$caps" \
          ! dmaheapupload name=up heap="$heap" \
          ! kmssink driver-name=vkms sync=false >$B/res
        if grep -q BENCH-ERROR $B/res; then
          grep BENCH-ERROR $B/res | sed 's/^/BENCH-INFO fallback to fakesink: /'
          counted "count/$heap/$fmt/$size/fakesink" pipe 10 40 \
            v4l2src device="$cap" io-mode=dmabuf-import ! "$caps" \
            ! dmaheapupload name=up heap="$heap" ! fakesink sync=false
        else
          cat $B/res
        fi
      done
    done
    # GStreamer's own two paths, for the re-attachments
    caps=$(caps_of BGRx "$w" "$h")
    counted "import/$size/kmssink-pool" pipe 10 40 \
      v4l2src device="$cap" io-mode=dmabuf-import ! "$caps" \
      ! kmssink driver-name=vkms sync=false
    counted "import/$size/v4l2-dmabuf" pipe 10 40 \
      v4l2src device="$cap" io-mode=dmabuf ! "$caps" \
      ! kmssink driver-name=vkms sync=false
  done
  [ -w $vb2_debug ] && echo 0 >$vb2_debug
fi

# ---- CPU per frame by pipeline ----------------------------------------------
# Rounds alternate the pipelines so that they share the same load.
if section cpu; then
  # cpu_run SIZE CAPS N ROUND PIPELINE: one counted run of one pipeline
  cpu_run() {
    case $5 in
      dmaheapupload) set -- "$@" io-mode=dmabuf-import \
        dmaheapupload name=up heap="$region" ;;
      identity) set -- "$@" io-mode=dmabuf-import identity ;;
      kmssink-pool) set -- "$@" io-mode=dmabuf-import ;;
      v4l2-dmabuf) set -- "$@" io-mode=dmabuf ;;
      # the camera alone: where the import costs
      camera-dmaheapupload)
        bench "cpu/$1/$5/$4" pipe 10 "$3" v4l2src device="$cap" \
          io-mode=dmabuf-import ! "$2" ! dmaheapupload name=up \
          heap="$region" ! fakesink sync=false
        return ;;
      camera-v4l2-dmabuf)
        bench "cpu/$1/$5/$4" pipe 10 "$3" v4l2src device="$cap" \
          io-mode=dmabuf ! "$2" ! fakesink sync=false
        return ;;
    esac
    if [ $# -eq 7 ]; then
      bench "cpu/$1/$5/$4" pipe 10 "$3" v4l2src device="$cap" "$6" ! "$2" \
        ! $7 ! kmssink driver-name=vkms sync=false
    else
      bench "cpu/$1/$5/$4" pipe 10 "$3" v4l2src device="$cap" "$6" ! "$2" \
        ! kmssink driver-name=vkms sync=false
    fi
  }
  r=1
  while [ $r -le "$ROUNDS" ]; do
    for size in 640x480 1920x1080; do
      w=${size%x*} h=${size#*x}
      caps=$(caps_of BGRx "$w" "$h")
      n=150
      [ "$w" -gt 1000 ] && n=90
      # the order turns with the rounds, so that no pipeline is always
      # the first after a size change
      set -- dmaheapupload identity kmssink-pool v4l2-dmabuf \
        camera-dmaheapupload camera-v4l2-dmabuf
      i=1
      while [ $i -lt $(( (r - 1) % 6 + 1 )) ]; do
        set -- "$2" "$3" "$4" "$5" "$6" "$1"
        i=$((i + 1))
      done
      for p in "$@"; do
        cpu_run "$size" "$caps" "$n" "$r" "$p"
      done
    done
    r=$((r + 1))
  done
fi

# ---- element overhead, per buffer -------------------------------------------
if section chain; then
  bench "chain/$region" chain "$region" 500 15
  bench "chain/system" chain system 500 15
fi

# ---- allocator ---------------------------------------------------------------
if section alloc; then
  for heap in system $cma_default "$region"; do
    for s in 4096:200 65536:100 1048576:20 8388608:4; do
      bench "alloc/$heap/${s%:*}" alloc "$heap" "${s%:*}" "${s#*:}" 25
    done
  done
fi

# ---- pool ----------------------------------------------------------------------
if section pool; then
  for heap in "$region" system; do
    bench "pool/$heap/BGRx/640x480" pool "$heap" BGRx 640 480 2000 3
    bench "pool/$heap/NV12/1920x1080" pool "$heap" NV12 1920 1080 2000 3
  done
fi

# ---- copy path: system-memory frames copied into the heap --------------------
if section copy; then
  for size in 640x480 1920x1080; do
    w=${size%x*} h=${size#*x}
    for fmt in BGRx NV12; do
      for heap in "$region" system; do
        n=40
        [ "$w" -gt 1000 ] && n=20
        bench "copy/$heap/$fmt/$size" feed 5 $n $fmt "$w" "$h" \
          dmaheapupload name=up heap="$heap" ! fakesink sync=false
        bench "copyel/$heap/$fmt/$size" copy "$heap" $fmt "$w" "$h" 4 15
      done
    done
  done
fi

# ---- CPU map cost ----------------------------------------------------------------
if section map; then
  for size in 640x480 1920x1080; do
    w=${size%x*} h=${size#*x}
    n=40
    [ "$w" -gt 1000 ] && n=10
    for heap in "$region" $cma_default system; do
      bench "map/$heap/BGRx/$size" map "$heap" BGRx "$w" "$h" $n 3
    done
  done
fi

echo "BENCH-END"
