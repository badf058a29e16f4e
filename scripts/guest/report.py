#!/usr/bin/env python3
"""Turn the guest's console into PASS:/FAIL: lines.

    report.py TESTS.NAMES < console.log

TESTS.NAMES ("NAME PER_HEAP" per line) is what scripts/guest/make-job.py
wrote: the tests the guest was asked to run. The console carries the
markers of scripts/guest/init, suite.sh and checks.sh. Results go to
stdout (guest/<name>); excerpts of failures and facts go to stderr.
Exit status 77 of a test is a failure here: in the guest every heap
exists, so a test has no reason to skip. With GUEST_ONLY set (a regular
expression), only the tests whose names match are expected.
"""

import os
import re
import sys


def reason_for(status, log):
    if status == 77:
        why = [l for l in log if "SKIP" in l or "skip" in l]
        return "skipped in the guest%s" % (": " + why[-1][:100] if why else "")
    if status in (124, 137, 143):
        return "killed after its time limit (status %d)" % status
    if status > 128:
        return "killed by signal %d" % (status - 128)
    return "exit status %d" % status


def main():
    only = os.environ.get("GUEST_ONLY", "")
    expected = []
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.split()
            if parts:
                expected.append((parts[0], parts[1] == "1"))

    heaps = None
    tests = {}        # name -> (status, seconds)
    testlogs = {}
    plan = None
    checks = {}       # name -> (ok, reason)
    checklogs = {}
    infos = []
    markers = set()

    for raw in sys.stdin:
        line = raw.rstrip("\n")
        m = re.match(r"(GUEST-[A-Z-]+)(?: (.*))?$", line)
        if not m:
            continue
        tag, rest = m.group(1), m.group(2) or ""
        markers.add(tag)
        if tag == "GUEST-HEAPS":
            heaps = [h for h in rest.split(",") if h]
        elif tag == "GUEST-TEST":
            parts = rest.split()
            if len(parts) >= 2:
                tests[parts[0]] = (int(parts[1]), parts[2] if len(parts) > 2 else "?")
        elif tag == "GUEST-TESTLOG":
            name, _, text = rest.partition(" ")
            testlogs.setdefault(name, []).append(text)
        elif tag == "GUEST-CHECKS":
            plan = rest.split()
        elif tag == "GUEST-CHECK":
            parts = rest.split(" ", 2)
            if len(parts) >= 2:
                checks[parts[0]] = (parts[1] == "PASS",
                                    parts[2] if len(parts) > 2 else "")
        elif tag == "GUEST-CHECKLOG":
            name, _, text = rest.partition(" ")
            checklogs.setdefault(name, []).append(text)
        elif tag in ("GUEST-INFO", "GUEST-SETUP-FAILED", "GUEST-DMESG"):
            infos.append(line)

    out = []
    err = sys.stderr

    for line in infos:
        print(line, file=err)

    booted = "GUEST-BOOTED" in markers
    done = "GUEST-DONE" in markers
    if not booted:
        out.append("FAIL: guest/boot (no GUEST-BOOTED marker: the kernel or "
                   "the initramfs did not come up)")
    elif "GUEST-SETUP-FAILED" in markers:
        out.append("FAIL: guest/boot (guest setup failed: see GUEST-SETUP-FAILED above)")
    elif not done:
        out.append("FAIL: guest/boot (no GUEST-DONE marker: the guest crashed "
                   "or hit the time limit)")
    else:
        out.append("PASS: guest/boot")

    # The gst-check suite.
    for name, per_heap in expected:
        names = [name]
        if per_heap and heaps:
            names = ["%s[%s]" % (name, h) for h in heaps]
        for n in names:
            if only and not re.search(only, n):
                continue
            if n not in tests:
                out.append("FAIL: guest/%s (no result: the guest crashed, hung "
                           "or timed out before it)" % n)
                continue
            status, secs = tests[n]
            if status == 0:
                out.append("PASS: guest/%s" % n)
                continue
            log = testlogs.get(n, [])
            out.append("FAIL: guest/%s (%s)" % (n, reason_for(status, log)))
            print("--- guest/%s: exit status %d after %s s, end of its output:"
                  % (n, status, secs), file=err)
            for l in log[-40:]:
                print("    " + l, file=err)

    # The pipeline checks.
    if plan is None:
        out.append("FAIL: guest/checks (the pipeline checks never started)")
        plan = []
    for n in plan:
        if n not in checks:
            out.append("FAIL: guest/%s (no result: the guest crashed, hung or "
                       "timed out before it)" % n)
            continue
        ok, why = checks[n]
        if ok:
            out.append("PASS: guest/%s" % n)
        else:
            out.append("FAIL: guest/%s (%s)" % (n, why[:300]))
            print("--- guest/%s: %s" % (n, why), file=err)
            for l in checklogs.get(n, [])[-40:]:
                print("    " + l, file=err)

    print("\n".join(out))


if __name__ == "__main__":
    main()
