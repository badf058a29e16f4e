#!/bin/sh
# /init of the rig's initramfs (busybox sh, arm64 guest).
#
# Kernel command line:
#   rig.layout=NAME    the layout of the device tree booted (layouts.sh)
#   rig.expect=VARIANT judge against what "patched" or "unpatched" must show
#   rig.selftest=0     skip the kernel selftest (default: run it)
#
# Prints one line per check:
#   RIG-RESULT PASS <name>
#   RIG-RESULT FAIL <name> <reason>
# then RIG-DONE, and powers off. Anything else on the console is progress.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
# Kernel messages stay in dmesg, not in the middle of our lines.
echo 1 > /proc/sys/kernel/printk

layout= expect= selftest=1
for a in $(cat /proc/cmdline); do
  case $a in
    rig.layout=*) layout=${a#*=} ;;
    rig.expect=*) expect=${a#*=} ;;
    rig.selftest=*) selftest=${a#*=} ;;
  esac
done

failed=0
result() {
  [ "$1" = FAIL ] && failed=1
  echo "RIG-RESULT $*"
}

finish() {
  if [ $failed -ne 0 ]; then
    dmesg | grep -iE 'cma|heap|reserved mem|slots|warn|error|fail|oops|bug|call trace' |
      tail -n 60 | sed 's/^/RIG-LOG /'
  fi
  echo "RIG-DONE"
  sync
  poweroff -f
  sleep 10
}

# words LIST: the words of LIST sorted, one space apart
words() {
  for w in $1; do echo "$w"; done | sort | tr '\n' ' '
}

# setdiff A B: the words of A that are not in B
setdiff() {
  _out=
  for _a in $1; do
    case " $2 " in *" $_a "*) ;; *) _out="$_out $_a" ;; esac
  done
  echo "${_out# }"
}

# same_set NAME WANT GOT
same_set() {
  if [ "$(words "$2")" = "$(words "$3")" ]; then
    result PASS "$1"
  else
    result FAIL "$1" "missing: [$(setdiff "$2" "$3")] unexpected: [$(setdiff "$3" "$2")]"
  fi
}

. /rig/layouts.sh
case " $LAYOUTS " in
  *" $layout "*) ;;
  *) result FAIL setup "unknown rig.layout='$layout'"; finish ;;
esac
case $expect in
  patched|unpatched) ;;
  *) result FAIL setup "rig.expect must be patched or unpatched, got '$expect'"; finish ;;
esac
"layout_$(echo "$layout" | tr - _)"
eval "heaps=\$HEAPS_$expect map=\$MAP_$expect dmesgpat=\$DMESG_$expect"

echo "rig: layout $layout, judged as $expect, kernel $(uname -r)"
got_heaps=$(/rig/heapcheck list | tr '\n' ' ')
got_areas=$(ls /sys/kernel/mm/cma 2>/dev/null | tr '\n' ' ')
echo "rig: heaps: $got_heaps"
echo "rig: cma areas: $got_areas"

# 1. Exactly the expected heaps, exactly the expected CMA areas.
same_set heaps "$heaps" "$got_heaps"
same_set cma-areas "$CMA_AREAS" "$got_areas"

# 2. A buffer from each heap comes from its own CMA area and no other.
counters() {
  for d in /sys/kernel/mm/cma/*/; do
    [ -d "$d" ] || continue
    n=${d%/}
    echo "${n##*/} $(cat "$d/alloc_pages_success")"
  done
}
size=1048576
pages=$((size / 4096))
for pair in $map; do
  heap=${pair%%=*} area=${pair#*=}
  before=$(counters)
  if ! err=$(/rig/heapcheck alloc "$heap" $size 2>&1); then
    result FAIL "alloc/$heap" "$err"
    continue
  fi
  after=$(counters)
  bad=
  seen=
  while read -r name count; do
    old=$(echo "$before" | while read -r n c; do [ "$n" = "$name" ] && echo "$c"; done)
    delta=$((count - ${old:-0}))
    if [ "$name" = "$area" ]; then
      seen=1
      [ $delta -eq $pages ] || bad="$bad $name:+$delta(want +$pages)"
    elif [ $delta -ne 0 ]; then
      bad="$bad $name:+$delta(want +0)"
    fi
  done <<EOF
$after
EOF
  if [ -n "$area" ] && [ -z "$seen" ]; then
    bad="$bad no CMA area $area"
  fi
  if [ -z "$bad" ]; then
    result PASS "alloc/$heap"
  else
    result FAIL "alloc/$heap" "alloc_pages_success:$bad"
  fi
done

# 3. The kernel's dmabuf-heaps selftest, once per heap: a private
#    /dev/dma_heap holding only that heap is bind-mounted over the real one.
if [ "$selftest" = 1 ]; then
  for heap in $heaps; do
    case " $SMALL " in *" $heap "*) continue ;; esac
    if ! [ -r "/sys/class/dma_heap/$heap/dev" ]; then
      result FAIL "selftest/$heap" "no such heap"
      continue
    fi
    dev=$(cat "/sys/class/dma_heap/$heap/dev")
    rm -rf /tmp/one
    mkdir /tmp/one
    mknod "/tmp/one/$heap" c "${dev%:*}" "${dev#*:}"
    mount -o bind /tmp/one /dev/dma_heap
    /rig/dmabuf-heap >/tmp/selftest.log 2>&1
    rc=$?
    umount /dev/dma_heap
    totals=$(grep '^# Totals:' /tmp/selftest.log)
    echo "rig: selftest on $heap: exit $rc, $totals"
    case "$rc $totals" in
      "0 # Totals: pass:11 fail:0 xfail:0 xpass:0 skip:0 error:0")
        result PASS "selftest/$heap" ;;
      *)
        sed 's/^/rig:   /' /tmp/selftest.log | grep -v '^rig:   ok ' | tail -n 30
        why=$(grep -E '^not ok|^ok .*# SKIP' /tmp/selftest.log | head -n 3 | tr '\n' ';')
        result FAIL "selftest/$heap" "exit $rc, ${totals:-no totals} $why" ;;
    esac
  done
fi

# 4. The warnings this layout must cause, and no oops or splat.
missing=
oldifs=$IFS
IFS=$_nl
for pat in $dmesgpat; do
  dmesg | grep -Eq -- "$pat" || missing="$missing [$pat]"
done
IFS=$oldifs
if [ -z "$dmesgpat" ]; then
  :
elif [ -z "$missing" ]; then
  result PASS dmesg-expected
else
  result FAIL dmesg-expected "not in dmesg:$missing"
fi
splat=$(dmesg | grep -E 'Oops|BUG:|Unable to handle|Call trace:|WARNING:|Kernel panic' | head -n 3 | tr '\n' ';')
if [ -z "$splat" ]; then
  result PASS dmesg-clean
else
  result FAIL dmesg-clean "$splat"
fi

finish
