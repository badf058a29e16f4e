#!/usr/bin/env bash
# Self-test of the test harness: scripts/check and scripts/guest/report.py
# are fed known-bad inputs and must turn each into a FAIL line naming the
# cause and a non-zero exit status; a known-good input must pass.
#
#   tests/harness/selftest.sh      prints PLAN: N, then one
#                                  PASS:/FAIL: host/harness/<case> per case
#
# Each case runs a copy of scripts/check in a scratch tree whose tiers are
# small scripts written here; the guest cases run the real report.py on a
# made-up job and console, through such a tier, so the whole path from a
# guest marker to the closing line is covered.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/tree/scripts/lib" "$tmp/tree/scripts/guest"
cp "$top/scripts/check" "$tmp/tree/scripts/"
cp "$top/scripts/lib/common.sh" "$tmp/tree/scripts/lib/"
cp "$top/scripts/guest/report.py" "$tmp/tree/scripts/guest/"

cases=0
declare -a names=()
declare -a bodies=()

# tier NAME: the tier script's body on stdin
tier() {
  { echo '#!/usr/bin/env bash'; cat; } >"$tmp/tree/scripts/tier-$1"
  chmod +x "$tmp/tree/scripts/tier-$1"
}

# expect CASE RC WANT TIER...: runs the tree's check on TIER...; passes when
# its exit status is RC ("nonzero" or 0) and its output has the line
# matching the extended regexp WANT
expect() {
  local name=$1 want_rc=$2 want=$3 out rc
  shift 3
  out=$("$tmp/tree/scripts/check" "$@" 2>"$tmp/stderr")
  rc=$?
  local last
  last=$(printf '%s\n' "$out" | tail -n 1)
  if [ "$want_rc" = nonzero ] && [ "$rc" -eq 0 ]; then
    echo "FAIL: host/harness/$name (scripts/check exited 0; last line: $last)"
  elif [ "$want_rc" = 0 ] && [ "$rc" -ne 0 ]; then
    echo "FAIL: host/harness/$name (scripts/check exited $rc; last line: $last)"
  elif ! printf '%s\n' "$out" | grep -q -E -e "$want"; then
    echo "FAIL: host/harness/$name (no line matching '$want' in the output; last line: $last)"
    printf '%s\n' "$out" | sed 's/^/    /' >&2
  elif ! [[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]]; then
    echo "FAIL: host/harness/$name (the closing line is not 'N passed, N failed, N skipped': $last)"
  else
    echo "PASS: host/harness/$name"
  fi
}

# --- scripts/check on tiers that misbehave -----------------------------------
echo "PLAN: 22"

tier good <<'T'
echo "PLAN: 2"
echo "PASS: good/a"
echo "PASS: good/b (with a detail)"
T
expect good-tier 0 '^2 passed, 0 failed, 0 skipped$' good

expect subset-said 0 '^subset run: tiers good ' good

tier missing <<'T'
echo "PLAN: 3"
echo "PASS: missing/a"
echo "PASS: missing/b"
T
expect missing-results nonzero '^FAIL: missing/results \(the tier printed 2 of the 3 results it planned\)' missing

tier crash <<'T'
echo "PASS: crash/a"
kill -SEGV $$
echo "PASS: crash/b"
T
expect crash-mid-run nonzero '^FAIL: crash/exit \(the tier script killed by signal 11\)' crash

tier partial <<'T'
echo "PASS: partial/a"
exit 3
T
expect nonzero-after-output nonzero '^FAIL: partial/exit \(the tier script exited with status 3\)' partial

tier plan-nan <<'T'
echo "PLAN: three"
echo "PASS: plan-nan/a"
T
expect non-numeric-plan nonzero '^FAIL: plan-nan/output \(malformed line on stdout: PLAN: three\)' plan-nan

tier garbled <<'T'
echo "PASS:garbled/a"
echo "PASS: garbled/b"
T
expect malformed-result nonzero '^FAIL: garbled/output \(malformed line on stdout: PASS:garbled/a\)' garbled

tier spaces <<'T'
echo "PASS: name with spaces"
T
expect name-with-spaces nonzero '^FAIL: spaces/output ' spaces

tier silent <<'T'
echo "progress only" >&2
T
expect silent-tier nonzero '^FAIL: silent/results \(the tier printed no result\)' silent

expect unknown-tier nonzero '^FAIL: nosuch \(no such tier' nosuch

tier failing <<'T'
echo "PASS: failing/a"
echo "FAIL: failing/b (it broke)"
T
expect fail-counted nonzero '^1 passed, 1 failed, 0 skipped$' failing

tier noted <<'T'
echo "NOTE: results are from the cache"
echo "PASS: noted/a"
T
expect note-in-summary 0 '^note: noted: results are from the cache$' noted

# --- the guest's report, through a tier --------------------------------------
# job: tests t1 (once) and t2 (per heap) on heaps system and cam; two
# declared heaps plus the legacy alias (a comma in its name); one check.
job=$tmp/job
mkdir -p "$job"
printf 't1 0\nt2 1\n' >"$job/tests.names"
printf 'system\ncam\n' >"$job/heaps"
printf 'system\ncam\nlinux,cma@80000000\n' >"$job/heaps.declared"
printf 'devices\n' >"$job/checks"

good_console() {
  cat <<'C'
GUEST-BOOTED 1.0
GUEST-JOB-START 2.0
GUEST-HEAPS-PRESENT cam linux,cma@80000000 system
GUEST-TEST t1 0 3
GUEST-TEST t2[system] 0 1
GUEST-TEST t2[cam] 0 1
GUEST-CHECKS devices
GUEST-CHECK devices PASS
GUEST-CHECKS-DONE
GUEST-JOB-END 9.0
GUEST-DONE
C
}

# guest CASE RC WANT [ENV=VALUE...]: console of the case on stdin
guest() {
  local name=$1 rc=$2 want=$3
  shift 3
  cat >"$tmp/console-$name"
  {
    echo "r=\$(env $* python3 '$tmp/tree/scripts/guest/report.py' '$job' <'$tmp/console-$name')"
    echo 's=$?; printf "%s\n" "$r"'
    echo '[ $s -eq 0 ] || echo "FAIL: guest/report (exit status $s)"; exit $s'
  } | tier "g-$name"
  expect "guest-$name" "$rc" "$want" "g-$name"
}

good_console | guest good 0 '^6 passed, 0 failed, 0 skipped$'

: | guest never-booted nonzero '^FAIL: guest/boot \(no GUEST-BOOTED marker'

printf 'GUEST-BOOTED 1.0\nGUEST-DONE\n' |
  guest job-never-ran nonzero '^FAIL: guest/boot \(the guest came up but never started the job\)'

good_console | sed 's/^GUEST-TEST t1 0 3$/GUEST-TEST t1 zero 3/' |
  guest non-numeric-status nonzero '^FAIL: guest/console \(malformed marker: GUEST-TEST t1 zero 3\)'

good_console | grep -v '^GUEST-TEST t2\[cam\]' |
  guest missing-result nonzero '^FAIL: guest/t2\[cam\] \(no result'

good_console | sed -n '1,4p' |
  guest crash-mid-run nonzero '^FAIL: guest/boot \(the job did not run to its end'

good_console | sed 's/^GUEST-HEAPS-PRESENT .*/GUEST-HEAPS-PRESENT linux,cma@80000000 system/' |
  guest declared-heap-missing nonzero '^FAIL: guest/heap\[cam\] \(declared by the rig'"'"'s layout'

good_console | sed 's/^GUEST-TEST t2\[system\] 0 1$/GUEST-TEST t2[system] 77 1/' |
  guest skip-is-failure nonzero '^FAIL: guest/t2\[system\] \(skipped in the guest'

good_console | guest bad-regex nonzero '^FAIL: guest/only \(GUEST_ONLY is not a valid regular expression' "GUEST_ONLY='('"

good_console | sed 's/^GUEST-TEST t1 0 3$/GUEST-TEST t1 0 3\nGUEST-TEST t1 0 3/' |
  guest reported-twice nonzero '^FAIL: guest/t1 \(reported twice\)'
