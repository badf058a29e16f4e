# shellcheck shell=bash
# Common settings of the arm64 guest scripts. Source it after
# scripts/lib/common.sh:
#
#   . "$top/scripts/lib/common.sh"
#   . "$top/scripts/guest/lib.sh"
#
# Everything the guest scripts download or build lives under $GUEST:
#   apt/        private apt configuration, lists and downloaded .debs
#   rootfs/     arm64 root filesystem shared read-only into the guest
#   sysroot/    arm64 -dev packages, for cross-compiling
#   boot/       initramfs and device tree
#
# The cross builds belong to the checkout they are built from (a build
# directory holds the absolute path of its source tree), so they live in it:
#   $GUEST_BUILD  (_build/guest)        cross build of the project (meson)
#   $GUEST_TOOLS  (_build/guest-tools)  the guest helper programs
#                                       (scripts/guest/tools)
#   $GUEST_ASAN   (_build/guest-asan)   cross build with AddressSanitizer
#   $GUEST_RUN    (_build/run)          job dirs and console logs of boots

GUEST=$CACHE/guest
mkdir -p "$GUEST"

guest_dir=$top/scripts/guest
GUEST_BUILD=$top/_build/guest
GUEST_TOOLS=$top/_build/guest-tools
GUEST_ASAN=$top/_build/guest-asan
# Jobs, consoles and results of this checkout's boots, so that two
# checkouts can boot guests at the same time.
GUEST_RUN=$top/_build/run
mkdir -p "$GUEST_RUN"

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
