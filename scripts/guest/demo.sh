# shellcheck shell=sh
# Guest side of scripts/demo (busybox sh, after guest-lib.sh).
# Inputs: $region_spec (heap to use, maybe without its unit address) and
# $frames. Prints DEMO-<KEY> value lines, the PNG of a displayed frame in
# base64 between DEMO-PNG-BEGIN and DEMO-PNG-END, then DEMO-END.

PROBE=/mnt/tools/gst-dmaheap-probe
out=/tmp/demo
mkdir -p $out

echo "DEMO-HEAPS $(heaps_all | tr '\n' ' ')"

# The heap the spec names: exact, or the one name@unit-address.
heap=
if [ -e "$HEAP_DIR/$region_spec" ]; then
  heap=$region_spec
else
  heap=$(heaps_all | grep "^$region_spec@" | head -n 1)
fi
# The vivid instance that imports like a camera without IOMMU: it attaches
# the dma-buf and needs it contiguous (scripts/guest/boot.sh).
cap=$(vivid_capture_contig)
area=$(cma_area "$heap")
echo "DEMO-AREA ${area:-none (not a CMA heap)}${area:+ ($(( $(cat /sys/kernel/debug/cma/$area/count 2>/dev/null || echo 0) * 4 / 1024 )) MiB)}"

pipeline="v4l2src device=$cap io-mode=dmabuf-import num-buffers=$frames ! video/x-raw,format=BGRx,width=640,height=480,framerate=30/1 ! dmaheapupload name=up heap=$region_spec ! kmssink name=kms driver-name=vkms"
echo "DEMO-PIPELINE $pipeline"

# GStreamer's registry first, so that the timing below is the pipeline's.
gst-inspect-1.0 dmaheapupload >/dev/null 2>&1

before=$(cma_counts)
t0=$(now)
# shellcheck disable=SC2086
$PROBE -t $((frames + 300)) -b $((frames / 2)) -p $((frames / 2)):$out/frame.png \
  $pipeline >$out/probe.txt 2>&1
rc=$?
t1=$(now)
after=$(cma_counts)

stat() {
  probe_stat $out/probe.txt "$@"
}
used=$(stat up heap)
rendered=$(stat kms rendered)
dropped=$(stat kms dropped)
copies=$(stat up copied)
passed=$(stat up passed-through)
echo "DEMO-HEAP ${used:-?} (exporter seen by the display: $(sed -n 's/^PROBE-SINK name=kms .* exporters=\([^ ]*\).*/\1/p' $out/probe.txt))"
echo "DEMO-FRAMES ${rendered:-?} rendered, ${dropped:-?} dropped (of $frames captured)"
echo "DEMO-COPIES ${copies:-?} (${passed:-?} buffers passed through untouched)"

pagesize=$(getconf PAGESIZE 2>/dev/null || echo 4096)
pages=0 others=
for d in $(cma_delta "$before" "$after"); do
  a=${d%=*} n=${d##*=}
  if [ "$a" = "$area" ]; then pages=$n; else others="${others:+$others, }$a: $((n * pagesize)) bytes"; fi
done
echo "DEMO-BYTES $((pages * pagesize)) ($pages pages of $pagesize bytes, alloc_pages_success of $area)"
echo "DEMO-OTHERS ${others:-none}"

att=$(attached_devices $out/probe.txt "$used")
devs=${att#"${att%% *}"}
imported="${att%% *} buffers of $used attached to:${devs:- no device}"
echo "DEMO-IMPORTED $imported"
span=$(sed -n 's/^PROBE-SINK name=kms .* span=\([0-9.]*\).*/\1/p' $out/probe.txt)
echo "DEMO-TIME $(echo "$t1 $t0 ${span:-0} ${rendered:-0}" | awk '{ printf "%.1f s in all, %.1f s from the first frame displayed to the last: %.1f frames/s (emulated arm64)", $1 - $2, $3, ($3 > 0 ? ($4 - 1) / $3 : 0) }')"

ok=1
[ $rc -eq 0 ] || ok=0
[ "$copies" = 0 ] || ok=0
[ "$used" = "$heap" ] || ok=0
[ "${rendered:-0}" -gt 0 ] || ok=0
[ "$pages" -gt 0 ] || ok=0
[ -z "$others" ] || ok=0
if [ $ok -eq 1 ]; then
  echo "DEMO-STATUS ok"
else
  echo "DEMO-STATUS failed (pipeline status $rc)"
  grep -v '^PROBE-BUFINFO' $out/probe.txt | tail -n 30 | sed 's/^/DEMO-LOG /'
fi

if [ -s $out/frame.png ]; then
  echo "DEMO-PNG-BEGIN"
  base64 $out/frame.png
  echo "DEMO-PNG-END"
fi
echo "DEMO-END"
registry_save
