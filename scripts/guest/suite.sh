# shellcheck shell=sh
# Run the project's gst-check suite inside the guest (busybox sh).
#
#   . /mnt/src/scripts/guest/suite.sh      (from a job's run.sh)
#
# Reads /mnt/job/tests.sh, written on the host by scripts/guest/make-job.py
# from `meson introspect --tests` of the cross build: one line per test,
#   guest_test NAME TIMEOUT PER_HEAP REGISTRY SEED COMMAND [ARG...]
# where COMMAND is `env VAR=VALUE... /mnt/build/...` (meson's environment,
# paths moved to the guest's mount points). A test with PER_HEAP=1 reads
# GST_DMA_HEAP_TEST_HEAPS and runs once per heap, that heap first in the
# list; the others run once with every heap listed.
#
# Every test has its own GStreamer registry (REGISTRY), as under meson
# test. On the host the registries stay in the build dir from one run to
# the next; here the first one made is copied (SEED) to the next tests that
# see the same plugins, so the emulated CPU scans the plugins once.
#
# Prints
#   GUEST-HEAPS-PRESENT name name ...   (every entry of /dev/dma_heap; heap
#                                        names may hold commas)
#   GUEST-TEST NAME EXIT-STATUS SECONDS
#   GUEST-INFO NAME text          (each "MEASURED text" line of its output)
#   GUEST-TESTLOG NAME line       (last lines of the output of a test that
#                                  did not exit 0)
#   GUEST-SUITE-DONE

# SUITE_TESTS and SUITE_DIR (set before sourcing) run another list, from
# another build: the AddressSanitizer one at /mnt/asan.
suite_tests=${SUITE_TESTS:-/mnt/job/tests.sh}
suite_dir=${SUITE_DIR:-/mnt/build}
# The heaps come from the rig's layout (the host wrote them into the job):
# a declared heap that is missing here fails its tests, it does not
# remove them. What /dev/dma_heap really holds is reported for the host to
# compare.
. /mnt/src/scripts/guest/plan.sh
plan_heaps $(cat /mnt/job/heaps.declared)
suite_heaps=$(echo $plan_all)
suite_list=$(echo $suite_heaps | tr ' ' ',')
echo "GUEST-HEAPS-PRESENT $(echo $(heaps_all))"
mkdir -p /tmp/registry /tmp/testlogs

# run_one NAME TIMEOUT HEAPLIST COMMAND...
run_one() {
  _name=$1 _tmo=$2 _heaps=$3
  shift 3
  selected "$_name" || return 0
  _log=/tmp/testlogs/$(echo "$_name" | tr '/[]@,' '_____').log
  _t0=$(date +%s)
  # Only meson's environment for the test: none of the GStreamer variables
  # this shell has. The build dir is read-only here: libcheck puts its
  # message files in $TEMP, else in the current directory.
  (
    for _v in $(env | sed -n 's/^\(GST_[A-Za-z0-9_]*\)=.*/\1/p'); do
      unset "$_v"
    done
    cd "$suite_dir" && TEMP=/tmp GST_DEBUG_NO_COLOR=1 GST_DMA_HEAP_TEST_HEAPS=$_heaps \
      timeout -s KILL "$_tmo" "$@"
  ) >"$_log" 2>&1
  _rc=$?
  echo "GUEST-TEST $_name $_rc $(( $(date +%s) - _t0 ))"
  # what a test measured, for the host's log
  grep '^MEASURED ' "$_log" | sed "s|^MEASURED |GUEST-INFO $_name |"
  if [ $_rc -ne 0 ]; then
    tail -n 60 "$_log" | sed "s|^|GUEST-TESTLOG $_name |"
  fi
}

guest_test() {
  _n=$1 _t=$2 _per_heap=$3 _reg=$4 _seed=$5
  shift 5
  if [ -f "$_seed" ] && [ ! -f "$_reg" ]; then
    cp "$_seed" "$_reg"
  fi
  if [ "$_per_heap" = 1 ] && [ -n "$suite_heaps" ]; then
    for _h in $suite_heaps; do
      _list=$_h
      for _o in $suite_heaps; do
        [ "$_o" = "$_h" ] || _list="$_list,$_o"
      done
      run_one "$_n[$_h]" "$_t" "$_list" "$@"
    done
  else
    run_one "$_n" "$_t" "$suite_list" "$@"
  fi
  if [ ! -f "$_seed" ] && [ -s "$_reg" ]; then
    cp "$_reg" "$_seed"
  fi
}

. "$suite_tests"
echo "GUEST-SUITE-DONE"
