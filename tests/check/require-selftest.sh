#!/bin/sh
# dma_heap_test_require() as the suite relies on it: a test that cannot do
# what it exists for fails in strict mode; otherwise it is a skip that
# meson sees (exit 77) with its reason printed, libcheck forking the tests
# or not.
#
#   require-selftest.sh PROGRAM      (PROGRAM: tests/check/libs/dmaheaprequire.c)
set -u
prog=$1
out=${TMPDIR:-/tmp}/require-selftest.$$
trap 'rm -f "$out"' EXIT
failed=0

# run WANT-STATUS DESCRIPTION ENV...: runs PROGRAM with ENV, checks its
# exit status (WANT-STATUS "fail": any but 0 and 77)
run() {
  want=$1 what=$2
  shift 2
  env -u GST_DMA_HEAP_TEST_STRICT -u DMA_HEAP_REQUIRE_OK "$@" "$prog" >"$out" 2>&1
  rc=$?
  case $want in
    fail) [ $rc -ne 0 ] && [ $rc -ne 77 ] ;;
    *) [ $rc -eq "$want" ] ;;
  esac || {
    echo "FAIL: $what: exit status $rc, want $want"
    sed 's/^/    /' "$out" | tail -n 20
    failed=1
    return 1
  }
  echo "ok: $what (exit status $rc)"
}

# has TEXT DESCRIPTION: the last run printed TEXT
has() {
  grep -qF -- "$1" "$out" || {
    echo "FAIL: $2: no '$1' in the output"
    sed 's/^/    /' "$out" | tail -n 20
    failed=1
  }
}

for fork in yes no; do
  run 77 "not strict, CK_FORK=$fork: a skip" CK_FORK=$fork &&
    has "SKIP-REASON: test_requires: DMA_HEAP_REQUIRE_OK is not set (42)" \
      "the reason, CK_FORK=$fork" &&
    has "SKIP: dmaheaprequire: 1 test(s) skipped: test_requires" \
      "the closing line, CK_FORK=$fork"
  run fail "strict, CK_FORK=$fork: a failure" CK_FORK=$fork \
    GST_DMA_HEAP_TEST_STRICT=1 &&
    has "DMA_HEAP_REQUIRE_OK is not set (42)" "the reason of the failure"
  run 0 "requirement met, CK_FORK=$fork: a pass" CK_FORK=$fork \
    DMA_HEAP_REQUIRE_OK=1 GST_DMA_HEAP_TEST_STRICT=1
done

exit $failed
