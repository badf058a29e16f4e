#!/usr/bin/env bash
# Boot an arm64 kernel in QEMU (TCG) with the rig's machine options.
#
#   kernel/rig/boot.sh --kernel IMAGE --initrd CPIO.gz [--dtb DTB]
#                      [--share DIR:TAG]... [--append STR] [--timeout SEC]
#
# Machine: -M virt -cpu max -smp 2 -m 2048 -nographic -nic none -no-reboot;
# a DTB must come from make-dtb.sh, which dumps the tree with these same
# options. Kernel command line: "console=ttyAMA0 panic=-1" plus --append.
# Each --share exports DIR read-only over 9p; in the guest:
#   mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt
# The console goes to stdout. QEMU is killed after --timeout seconds
# (default 300); the exit status is then 124. Otherwise it is QEMU's, which
# says nothing about the guest (a panic also ends with 0): judge a run by the
# marker lines the guest prints.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"

usage() {
  sed -n '3,4p' "$0" | sed 's/^# *//' >&2
  exit 2
}

kernel= dtb= initrd= append= timeout=300
shares=()
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kernel=${2:?}; shift 2 ;;
    --dtb) dtb=${2:?}; shift 2 ;;
    --initrd) initrd=${2:?}; shift 2 ;;
    --share) shares+=("${2:?}"); shift 2 ;;
    --append) append="$append ${2?}"; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
done
[ -n "$kernel" ] && [ -n "$initrd" ] || usage
for f in "$kernel" "$initrd" ${dtb:+"$dtb"}; do
  [ -f "$f" ] || die "no such file: $f"
done

need_pkgs qemu-system-arm || die "cannot install qemu-system-arm"

args=(-M virt -cpu max -smp 2 -m 2048 -nographic -nic none -no-reboot
      -kernel "$kernel" -initrd "$initrd"
      -append "console=ttyAMA0 panic=-1$append")
[ -n "$dtb" ] && args+=(-dtb "$dtb")
for s in ${shares[@]+"${shares[@]}"}; do
  dir=${s%:*} tag=${s##*:}
  [ "$dir" != "$s" ] && [ -n "$tag" ] || die "--share wants DIR:TAG, got '$s'"
  [ -d "$dir" ] || die "no such directory: $dir"
  args+=(-virtfs "local,path=$dir,mount_tag=$tag,security_model=none,readonly=on")
done

# stdin from /dev/null: no terminal state to restore, no job-control stop.
rc=0
timeout -k 10 "$timeout" qemu-system-aarch64 "${args[@]}" </dev/null || rc=$?
if [ $rc -eq 124 ]; then
  log "boot: killed after ${timeout} s"
fi
exit $rc
