# shellcheck shell=sh
# What a guest run must prove, derived from the rig's layout. Plain POSIX
# sh: scripts/tier-guest sources it on the host to write the plan into the
# job, and the guest's checks.sh sources it to run that same plan.
#
#   plan_heaps HEAP...   from every heap the layout declares (HEAPS_patched
#                        of kernel/rig/layouts.sh), sets
#     plan_all     the heaps the tests run on: system, default_cma_region
#                  and each named region (the legacy alias of the default
#                  area is the same memory as default_cma_region)
#     plan_legacy  the legacy names of the default area
#     plan_named   the named regions
#     plan_cma     every test heap but system
#     plan_region  the region the single-heap checks use (camera@... if
#                  declared, else the first named region)
#   plan_checks          the pipeline checks, one name per line

# The legacy names of the default CMA area (the kernel keeps them beside
# default_cma_region): true if $1 is one.
plan_is_legacy() {
  case $1 in
    reserved|default-pool|linux,cma|linux,cma@*) return 0 ;;
  esac
  return 1
}

plan_heaps() {
  plan_all= plan_legacy= plan_named= plan_cma= plan_region=
  for _ph in "$@"; do
    if plan_is_legacy "$_ph"; then
      plan_legacy="$plan_legacy $_ph"
      continue
    fi
    plan_all="$plan_all $_ph"
    [ "$_ph" = system ] || plan_cma="$plan_cma $_ph"
    case $_ph in
      system|default_cma_region) ;;
      *) plan_named="$plan_named $_ph" ;;
    esac
  done
  for _ph in $plan_named; do
    case $_ph in camera@*) plan_region=$_ph; break ;; esac
  done
  [ -n "$plan_region" ] || plan_region=$(echo $plan_named | cut -d' ' -f1)
  [ -n "$plan_region" ] || plan_region=default_cma_region
}

plan_checks() {
  echo devices
  echo gst-inspect-dmaheapupload
  for _ph in $plan_all; do echo "camera-kms[$_ph]"; done
  for _ph in $plan_cma; do echo "camera-contig-kms[$_ph]"; done
  for _ph in $plan_all $plan_legacy; do echo "testsrc-kms[$_ph,640x480]"; done
  echo "testsrc-kms[$plan_region,1366x768]"
  echo "testsrc-kms[$plan_region,642x482]"
  for _pf in BGRx NV12 YUY2; do echo "testsrc-v4l2sink[$_pf,640x480]"; done
  echo "testsrc-v4l2sink[NV12,642x482]"
  for _pf in BGRx NV12 YUY2; do
    for _ps in 640x480 1366x768 642x482; do echo "pixels[$_pf,$_ps]"; done
  done
  echo "kms-crc[$plan_region]"
  echo "bytes[$plan_region]"
  echo "long-run[$plan_region]"
  echo "long-run-leak[$plan_region]"
  echo "camera-cycles[$plan_region]"
  echo "m2m-convert-kms[$plan_region]"
  echo "h264-bytes[$plan_region]"
}
