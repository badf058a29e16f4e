# shellcheck shell=sh
# The reserved-memory layouts of the rig and what each kernel must show for
# them. Plain POSIX sh: make-dtb.sh sources it on the host to write the
# device tree, and the guest's /init (busybox sh) sources it to know what to
# expect. One source of truth for both sides.
#
# `layout_<name>` sets (a "-" in a layout name is "_" in its function):
#   DTS               children of /reserved-memory (host side only)
#   CMA_AREAS         exact set of /sys/kernel/mm/cma/<area> directories
#   HEAPS_<variant>   exact set of /dev/dma_heap entries
#   MAP_<variant>     heap=area pairs: allocating from the heap must raise
#                     alloc_pages_success of that CMA area and of no other
#                     ("heap=" : of no area at all, e.g. the system heap)
#   SMALL             heaps too small for the kernel selftest (it needs
#                     32 MiB free); the selftest runs on every other heap
#   DMESG_<variant>   extended regexps, one per line, that dmesg must match
#   CMDLINE           extra kernel command line the layout is booted with
# <variant> is "patched" or "unpatched".
#
# Guest memory (-m 2048) is 0x40000000..0xc0000000; QEMU loads the initrd at
# 0x48000000 and the DTB after it, so every region sits at 0x78000000 or
# above. Bases and sizes are 2 MiB aligned (a pageblock), as CMA requires.

LAYOUTS="none regions overflow exhausted nomap duplicate cma-cmdline cma-zero misaligned"
# Layouts that 6.12 itself does not survive (with or without the series):
# make-dtb.sh writes them, to reproduce the crash; nothing boots them.
CRASH_LAYOUTS="outside"

_reset() {
  DTS=
  CMA_AREAS=
  HEAPS_patched=
  HEAPS_unpatched=
  MAP_patched=
  MAP_unpatched=
  SMALL=
  DMESG_patched=
  DMESG_unpatched=
  CMDLINE=
}

_nl='
'

# region NAME BASE SIZE [PROPERTY...]: a static region (reg), node NAME@base
region() {
  _n=$1 _b=$2 _s=$3
  shift 3
  _p=
  for _x in "$@"; do _p="$_p $_x;"; done
  DTS="$DTS$_nl		$_n@${_b#0x} { compatible = \"shared-dma-pool\";$_p reg = <0 $_b 0 $_s>; };"
}

# dynregion NAME SIZE RANGE_BASE RANGE_SIZE [PROPERTY...]: a dynamic region
# (size + alloc-ranges); its node name has no unit address
dynregion() {
  _n=$1 _s=$2 _rb=$3 _rs=$4
  shift 4
  _p=
  for _x in "$@"; do _p="$_p $_x;"; done
  DTS="$DTS$_nl		$_n { compatible = \"shared-dma-pool\";$_p size = <0 $_s>; alloc-ranges = <0 $_rb 0 $_rs>; };"
}

# No reserved-memory at all: the default area comes from CMA_SIZE_MBYTES
# and its legacy heap name is "reserved".
layout_none() {
  _reset
  CMA_AREAS="reserved"
  HEAPS_patched="system default_cma_region reserved"
  MAP_patched="system= default_cma_region=reserved reserved=reserved"
  HEAPS_unpatched="system reserved"
  MAP_unpatched="system= reserved=reserved"
}

# The default region from DT plus two named reusable regions.
layout_regions() {
  _reset
  region ecc-off 0x78000000 0x4000000 reusable
  region camera 0x7c000000 0x4000000 reusable
  region linux,cma 0x80000000 0x4000000 reusable linux,cma-default
  CMA_AREAS="ecc-off@78000000 camera@7c000000 linux,cma@80000000"
  HEAPS_patched="system default_cma_region linux,cma@80000000 ecc-off@78000000 camera@7c000000"
  MAP_patched="system= default_cma_region=linux,cma@80000000 linux,cma@80000000=linux,cma@80000000 ecc-off@78000000=ecc-off@78000000 camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system linux,cma@80000000"
  MAP_unpatched="system= linux,cma@80000000=linux,cma@80000000"
}

# pools FIRST COUNT: COUNT reusable 4 MiB regions pool<i>@<base> from
# 0x90000000 up; appends their names to _pools
_pools() {
  _i=$1
  _pools=
  while [ "$_i" -lt $(($1 + $2)) ]; do
    _b=$(printf '0x%x' $((0x90000000 + _i * 0x400000)))
    region "pool$_i" "$_b" 0x400000 reusable
    _pools="$_pools pool$_i@${_b#0x}"
    _i=$((_i + 1))
  done
}

# The default region plus 17 named ones: 18 CMA areas for CONFIG_CMA_AREAS=16
# slots. Static regions are set up in DT order, so the last two named ones
# get no CMA area and hence no heap; the kernel says why and boots on.
layout_overflow() {
  _reset
  region linux,cma 0x80000000 0x4000000 reusable linux,cma-default
  _pools 0 15
  _fit=$_pools
  _pools 15 2
  CMA_AREAS="linux,cma@80000000$_fit"
  HEAPS_patched="system default_cma_region linux,cma@80000000$_fit"
  MAP_patched="system= default_cma_region=linux,cma@80000000 linux,cma@80000000=linux,cma@80000000"
  for _x in $_fit; do MAP_patched="$MAP_patched $_x=$_x"; done
  HEAPS_unpatched="system linux,cma@80000000"
  MAP_unpatched="system= linux,cma@80000000=linux,cma@80000000"
  SMALL=$_fit
  DMESG_patched="Not enough slots for CMA reserved regions"
  DMESG_unpatched=$DMESG_patched
}

# 17 named regions and no default in DT: 16 of them take every CMA slot, so
# the default area (CMA_SIZE_MBYTES) cannot be reserved afterwards. There
# must be no default heap at all (and no heap on a NULL area), the named
# heaps must work.
layout_exhausted() {
  _reset
  _pools 0 16
  _fit=$_pools
  _pools 16 1
  CMA_AREAS="${_fit# }"
  HEAPS_patched="system$_fit"
  MAP_patched="system="
  for _x in $_fit; do MAP_patched="$MAP_patched $_x=$_x"; done
  HEAPS_unpatched="system"
  MAP_unpatched="system="
  SMALL=$_fit
  DMESG_unpatched="Not enough slots for CMA reserved regions"
  DMESG_patched="$DMESG_unpatched
failed to reserve the default area"
}

# A reusable region marked no-map and a non-reusable shared-dma-pool: no CMA
# area, no heap for either; the others work.
layout_nomap() {
  _reset
  region camera 0x7c000000 0x4000000 reusable
  region linux,cma 0x80000000 0x4000000 reusable linux,cma-default
  region nomap 0x88000000 0x1000000 reusable no-map
  region coherent 0x8a000000 0x1000000
  CMA_AREAS="camera@7c000000 linux,cma@80000000"
  HEAPS_patched="system default_cma_region linux,cma@80000000 camera@7c000000"
  MAP_patched="system= default_cma_region=linux,cma@80000000 linux,cma@80000000=linux,cma@80000000 camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system linux,cma@80000000"
  MAP_unpatched="system= linux,cma@80000000=linux,cma@80000000"
  DMESG_patched="node nomap@88000000 compatible matching fail"
  DMESG_unpatched=$DMESG_patched
}

# Regions whose names are already taken by other heaps: one called
# default_cma_region (the fixed name of the default heap) and one called
# system (the system heap). Dynamic regions, so the node names carry no unit
# address, like the default region "linux,cma" here. Their heaps must be
# refused with a warning while default_cma_region stays on the real default
# area and everything else works.
layout_duplicate() {
  _reset
  dynregion linux,cma 0x4000000 0x80000000 0x8000000 reusable linux,cma-default
  dynregion default_cma_region 0x4000000 0x88000000 0x8000000 reusable
  dynregion system 0x4000000 0x90000000 0x8000000 reusable
  region camera 0x7c000000 0x4000000 reusable
  CMA_AREAS="linux,cma default_cma_region system camera@7c000000"
  HEAPS_patched="system default_cma_region linux,cma camera@7c000000"
  MAP_patched="system= default_cma_region=linux,cma linux,cma=linux,cma camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system linux,cma"
  MAP_unpatched="system= linux,cma=linux,cma"
  DMESG_patched="Already registered heap named default_cma_region
Already registered heap named system
failed to create heap default_cma_region
failed to create heap system"
}

# The "regions" tree booted with cma=64M: the command line wins over the DT
# default region, which then is no CMA area at all; the default area is
# made from the command line and its legacy heap name is "reserved".
layout_cma_cmdline() {
  layout_regions
  CMDLINE="cma=64M"
  CMA_AREAS="ecc-off@78000000 camera@7c000000 reserved"
  HEAPS_patched="system default_cma_region reserved ecc-off@78000000 camera@7c000000"
  MAP_patched="system= default_cma_region=reserved reserved=reserved ecc-off@78000000=ecc-off@78000000 camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system reserved"
  MAP_unpatched="system= reserved=reserved"
  DMESG_patched="bypass linux,cma@80000000 node, using cmdline CMA params"
  DMESG_unpatched=$DMESG_patched
}

# The "regions" tree booted with cma=0: no default area, hence no
# default_cma_region heap; the named regions keep theirs.
layout_cma_zero() {
  layout_regions
  CMDLINE="cma=0"
  CMA_AREAS="ecc-off@78000000 camera@7c000000"
  HEAPS_patched="system ecc-off@78000000 camera@7c000000"
  MAP_patched="system= ecc-off@78000000=ecc-off@78000000 camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system"
  MAP_unpatched="system="
  DMESG_patched="bypass linux,cma@80000000 node, using cmdline CMA params"
  DMESG_unpatched=$DMESG_patched
}

# A reusable region whose base and size are 1 MiB aligned but not pageblock
# (2 MiB) aligned: CMA refuses it and it gets no area and no heap; the
# others work.
layout_misaligned() {
  _reset
  region camera 0x7c000000 0x4000000 reusable
  region linux,cma 0x80000000 0x4000000 reusable linux,cma-default
  region odd 0x79100000 0x1100000 reusable
  CMA_AREAS="camera@7c000000 linux,cma@80000000"
  HEAPS_patched="system default_cma_region linux,cma@80000000 camera@7c000000"
  MAP_patched="system= default_cma_region=linux,cma@80000000 linux,cma@80000000=linux,cma@80000000 camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system linux,cma@80000000"
  MAP_unpatched="system= linux,cma@80000000=linux,cma@80000000"
  DMESG_patched="incorrect alignment of CMA region"
  DMESG_unpatched=$DMESG_patched
}

# A reusable region above the end of RAM (the guest has RAM up to
# 0xc0000000; this one is at 4 GiB). Linux 6.12 reserves it as a CMA area
# without checking that it is memory, then warns at mm/cma.c:106
# (pfn_valid) and oopses in cma_init_reserved_areas() while activating the
# area: a panic before init runs, on the unpatched kernel as on the patched
# one. The expectations below are what a kernel that refused the region
# would have to show.
layout_outside() {
  _reset
  region camera 0x7c000000 0x4000000 reusable
  region linux,cma 0x80000000 0x4000000 reusable linux,cma-default
  DTS="$DTS$_nl		beyond@100000000 { compatible = \"shared-dma-pool\"; reusable; reg = <0x1 0x0 0 0x4000000>; };"
  CMA_AREAS="camera@7c000000 linux,cma@80000000"
  HEAPS_patched="system default_cma_region linux,cma@80000000 camera@7c000000"
  MAP_patched="system= default_cma_region=linux,cma@80000000 linux,cma@80000000=linux,cma@80000000 camera@7c000000=camera@7c000000"
  HEAPS_unpatched="system linux,cma@80000000"
  MAP_unpatched="system= linux,cma@80000000=linux,cma@80000000"
}
