#!/usr/bin/env bash
# Write the device tree of one rig layout.
#
#   kernel/rig/make-dtb.sh LAYOUT OUT.dtb
#
# LAYOUT: one of $LAYOUTS in layouts.sh (none regions overflow exhausted
# nomap duplicate cma-cmdline cma-zero misaligned), or of $CRASH_LAYOUTS
# (outside), which 6.12 does not boot. The cma-* layouts use the tree of
# "regions" with a cma= kernel argument (CMDLINE in layouts.sh).
# The tree is QEMU's own virt tree, dumped with exactly the machine options
# boot.sh uses, put through a dtc round trip (the raw dump does not boot),
# with our /reserved-memory node appended and QEMU's random seeds left out.
# OUT.dts is left beside it.
set -eu -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/common.sh"
. "$top/kernel/rig/layouts.sh"

[ $# -eq 2 ] || { echo "usage: $0 LAYOUT OUT.dtb" >&2; exit 2; }
layout=$1 out=$2
case " $LAYOUTS $CRASH_LAYOUTS " in
  *" $layout "*) ;;
  *) die "unknown layout '$layout' (known: $LAYOUTS $CRASH_LAYOUTS)" ;;
esac

need_pkgs qemu-system-arm device-tree-compiler ||
  die "cannot install qemu-system-arm and device-tree-compiler"

"layout_${layout//-/_}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keep these options identical to boot.sh: the tree depends on them.
qemu-system-aarch64 -M virt,dumpdtb="$tmp/virt.dtb" -cpu max -smp 2 -m 2048 \
  -nographic -nic none </dev/null >"$tmp/qemu.log" 2>&1 ||
  { cat "$tmp/qemu.log" >&2; die "qemu could not dump its device tree"; }
dtc -q -I dtb -O dts -o "$tmp/virt.dts" "$tmp/virt.dtb"

dts=${out%.dtb}.dts
{
  # QEMU puts fresh random seeds into every dump; without them the same
  # layout always gives the same bytes (scripts/tier-kernel caches boot
  # results by hash).
  grep -vE '^[[:space:]]*(rng-seed|kaslr-seed) = ' "$tmp/virt.dts"
  if [ -n "$DTS" ]; then
    cat <<EOF

/ {
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;
$DTS
	};
};
EOF
  fi
} >"$dts"
dtc -q -I dts -O dtb -o "$out" "$dts" || die "dtc rejected $dts"
log "dtb $layout: $out"
