# shellcheck shell=bash
# Common settings of the arm64 guest scripts. Source it after
# scripts/lib/common.sh:
#
#   . "$top/scripts/lib/common.sh"
#   . "$top/scripts/guest/lib.sh"
#
# The guest's userspace comes from one Debian release, the "suite", which
# decides the GStreamer it runs and is cross-built against:
#   bookworm  Debian 12   GStreamer 1.22   (the default)
#   trixie    Debian 13   GStreamer 1.26
#   sid       unstable    GStreamer 1.28
# GST_DMAHEAP_SUITE picks it (a suite name or a GStreamer version, 1.26);
# scripts that take --suite call guest_set_suite, which exports it again so
# that the scripts they run (boot.sh -> rootfs.sh, ...) follow.
#
# Everything the guest scripts download or build lives under $GUEST:
#   apt-<suite>/          private apt state, lists and downloaded .debs
#   roots/<suite>-<key>/  rootfs/ (shared read-only into the guest) and
#                         sysroot/ (arm64 -dev packages, for cross-compiling)
#                         of one package list (scripts/guest/rootfs.sh)
#   boot/                 initramfs and device tree
#
# The cross builds belong to the checkout they are built from (a build
# directory holds the absolute path of its source tree), so they live in it.
# For bookworm (suffix empty; -trixie or -sid otherwise):
#   $GUEST_BUILD   (_build/guest)        cross build of the project (meson)
#   $GUEST_TOOLS   (_build/guest-tools)  the guest helper programs
#                                        (scripts/guest/tools)
#   $GUEST_ASAN    (_build/guest-asan)   cross build with AddressSanitizer
#   $GUEST_RUN     (_build/run)          job dirs and console logs of boots
#   $GUEST_SYSINI  (_build/sysroot.ini)  meson machine file naming the sysroot
# and, in the cache, $GUEST_REGISTRY (the GStreamer registries the guest
# built, per suite: a registry of one GStreamer is of no use to another).

GUEST=$CACHE/guest
mkdir -p "$GUEST"
guest_dir=$top/scripts/guest

# guest_suite_name NAME-OR-VERSION: the suite, or nothing (status 1) if it
# is not one of ours.
guest_suite_name() {
  case $1 in
    bookworm|12|1.22) echo bookworm ;;
    trixie|13|1.26) echo trixie ;;
    sid|unstable|1.28) echo sid ;;
    *) return 1 ;;
  esac
}

# guest_set_suite NAME-OR-VERSION: switch every setting above to that suite.
guest_set_suite() {
  GUEST_SUITE=$(guest_suite_name "$1") ||
    die "unknown guest suite '$1' (bookworm, trixie, sid or 1.22, 1.26, 1.28)"
  export GST_DMAHEAP_SUITE=$GUEST_SUITE
  case $GUEST_SUITE in
    bookworm) GUEST_GST=1.22 GUEST_SFX= ;;
    trixie) GUEST_GST=1.26 GUEST_SFX=-trixie ;;
    sid) GUEST_GST=1.28 GUEST_SFX=-sid ;;
  esac
  GUEST_BUILD=$top/_build/guest$GUEST_SFX
  GUEST_TOOLS=$top/_build/guest$GUEST_SFX-tools
  GUEST_ASAN=$top/_build/guest$GUEST_SFX-asan
  # Jobs, consoles and results of this checkout's boots, so that two
  # checkouts (or two suites) can boot guests at the same time.
  GUEST_RUN=$top/_build/run$GUEST_SFX
  GUEST_SYSINI=$top/_build/sysroot$GUEST_SFX.ini
  GUEST_REGISTRY=$GUEST/registry$GUEST_SFX
  mkdir -p "$GUEST_RUN"
}
guest_set_suite "${GST_DMAHEAP_SUITE:-bookworm}"

# Mount points inside the guest's root filesystem (created when the root
# filesystem is assembled, since it is shared read-only).
GUEST_MNT_BUILD=/mnt/build    # cross build dir of the project
GUEST_MNT_SRC=/mnt/src        # the source tree
GUEST_MNT_TOOLS=/mnt/tools    # cross-built helper programs
GUEST_MNT_ASAN=/mnt/asan      # cross build with AddressSanitizer
GUEST_MNT_JOB=/mnt/job        # scripts of the current boot + its results

# Print elapsed seconds since $1 (a `date +%s` value).
since() {
  echo $(( $(date +%s) - $1 ))
}
