#!/usr/bin/env python3
"""Turn the guest's console into result lines, as the console comes.

    report.py JOBDIR < console.log

JOBDIR is what the host prepared for the boot (scripts/tier-guest):
  tests.names     "NAME PER_HEAP" per line (scripts/guest/make-job.py): the
                  tests the guest was asked to run
  heaps           the heaps the tests run on, one per line, from the rig's
                  layout (kernel/rig/layouts.sh), not from the guest
  heaps.declared  every heap the layout says /dev/dma_heap must hold
  checks          the pipeline checks the guest must report, one per line
The plan is every test (once per heap for PER_HEAP=1) and every check;
it is printed first as "PLAN: N". Each result is printed on stdout as soon
as its marker arrives; whatever was planned and never arrived is a FAIL at
the end, as is a heap declared but missing (or present but undeclared), a
malformed marker, a result that was not planned or came twice, and a
guest that did not boot, did not start the job or did not finish it.
Excerpts of failures go to stderr.

Exit status 77 of a test is a failure here: in the guest every declared
heap exists, so a test has no reason to skip. With GUEST_ONLY set (an
extended regular expression), only the names that match are planned; an
invalid expression is a FAIL and exit status 2. Exit status 0 otherwise,
whatever the results: the FAIL lines carry them.
"""

import os
import re
import sys


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def err(line):
    sys.stderr.write(line + "\n")


def read_list(path):
    try:
        with open(path) as f:
            return [l.strip() for l in f if l.strip()]
    except OSError:
        return None


def reason_for(status, log):
    if status == 77:
        why = [l for l in log if "SKIP" in l or "skip" in l]
        return "skipped in the guest%s" % (": " + why[-1][:100] if why else "")
    if status in (124, 137, 143):
        return "killed after its time limit (status %d)" % status
    if status > 128:
        return "killed by signal %d" % (status - 128)
    return "exit status %d" % status


class Report:
    def __init__(self, job, only):
        self.failed = 0
        names = read_list(os.path.join(job, "tests.names"))
        heaps = read_list(os.path.join(job, "heaps"))
        self.declared = read_list(os.path.join(job, "heaps.declared"))
        checks = read_list(os.path.join(job, "checks"))
        for what, value in (("tests.names", names), ("heaps", heaps),
                            ("heaps.declared", self.declared),
                            ("checks", checks)):
            if value is None:
                raise SystemExit("report.py: %s/%s is missing" % (job, what))
        self.tests = []
        for line in names:
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ("0", "1"):
                raise SystemExit("report.py: bad line in tests.names: %r" % line)
            if parts[1] == "1":
                self.tests += ["%s[%s]" % (parts[0], h) for h in heaps]
            else:
                self.tests.append(parts[0])
        self.checks = list(checks)
        if only:
            self.tests = [n for n in self.tests if re.search(only, n)]
            self.checks = [n for n in self.checks if re.search(only, n)]
        self.pending_tests = set(self.tests)
        self.pending_checks = set(self.checks)
        self.seen = set()
        self.testlogs = {}
        self.checklogs = {}
        self.markers = set()
        self.present = None
        self.check_plan = None

    def fail(self, name, why):
        self.failed += 1
        out("FAIL: guest/%s (%s)" % (name, why))

    def malformed(self, line):
        self.fail("console", "malformed marker: %.150s" % line)

    def result(self, pending, name, ok, why):
        if name in self.seen:
            self.fail(name, "reported twice")
            return
        self.seen.add(name)
        if name not in pending:
            self.fail(name, "a result that was not planned")
            return
        pending.discard(name)
        if ok:
            out("PASS: guest/%s" % name)
        else:
            self.fail(name, why)

    def line(self, line):
        m = re.match(r"(GUEST-[A-Z-]+)(?: (.*))?$", line)
        if not m:
            return
        tag, rest = m.group(1), m.group(2) or ""
        self.markers.add(tag)
        if tag == "GUEST-HEAPS-PRESENT":
            if self.present is not None:
                return      # the AddressSanitizer suite says it again
            self.present = rest.split()
            self.heaps_verdict()
        elif tag == "GUEST-TEST":
            parts = rest.split()
            if len(parts) != 3 or not re.match(r"^[0-9]+$", parts[1]):
                self.malformed(line)
                return
            name, status, secs = parts[0], int(parts[1]), parts[2]
            log = self.testlogs.get(name, [])
            why = reason_for(status, log)
            self.result(self.pending_tests, name, status == 0, why)
            if status != 0:
                err("--- guest/%s: exit status %d after %s s, end of its output:"
                    % (name, status, secs))
                for l in log[-40:]:
                    err("    " + l)
        elif tag == "GUEST-TESTLOG":
            name, _, text = rest.partition(" ")
            self.testlogs.setdefault(name, []).append(text)
        elif tag == "GUEST-CHECKS":
            self.check_plan = rest.split()
            missing = [n for n in self.checks if n not in self.check_plan]
            if missing:
                self.fail("checks", "the guest does not know the checks %s"
                          % " ".join(missing))
        elif tag == "GUEST-CHECK":
            parts = rest.split(" ", 2)
            if len(parts) < 2 or parts[1] not in ("PASS", "FAIL") or not parts[0]:
                self.malformed(line)
                return
            name, ok = parts[0], parts[1] == "PASS"
            why = (parts[2] if len(parts) > 2 else "no reason given")[:300]
            self.result(self.pending_checks, name, ok, why)
            if not ok:
                err("--- guest/%s: %s" % (name, why))
                for l in self.checklogs.get(name, [])[-40:]:
                    err("    " + l)
        elif tag == "GUEST-CHECKLOG":
            name, _, text = rest.partition(" ")
            self.checklogs.setdefault(name, []).append(text)
        elif tag in ("GUEST-INFO", "GUEST-SETUP-FAILED", "GUEST-DMESG"):
            err(line)

    def heaps_verdict(self):
        before = self.failed
        present = set(self.present)
        for h in self.declared:
            if h not in present:
                self.fail("heap[%s]" % h, "declared by the rig's layout, missing "
                          "from /dev/dma_heap in the guest")
        extra = sorted(present - set(self.declared))
        if extra:
            self.fail("heaps", "in /dev/dma_heap but not declared by the layout: %s"
                      % " ".join(extra))
        if self.failed == before:
            out("PASS: guest/heaps")

    def finish(self):
        mk = self.markers
        if "GUEST-BOOTED" not in mk:
            self.fail("boot", "no GUEST-BOOTED marker: the kernel or the initramfs "
                      "did not come up")
        elif "GUEST-SETUP-FAILED" in mk:
            self.fail("boot", "guest setup failed: see GUEST-SETUP-FAILED above")
        elif "GUEST-JOB-START" not in mk:
            self.fail("boot", "the guest came up but never started the job")
        elif "GUEST-JOB-END" not in mk:
            self.fail("boot", "the job did not run to its end: the guest crashed, "
                      "hung or hit the time limit")
        elif "GUEST-DONE" not in mk:
            self.fail("boot", "no GUEST-DONE marker: the guest did not shut down")
        else:
            out("PASS: guest/boot")
        if self.present is None:
            self.fail("heaps", "the guest never said which heaps it has")
        if self.checks and self.check_plan is None:
            self.fail("checks", "the pipeline checks never started")
        for n in self.tests:
            if n in self.pending_tests:
                self.fail(n, "no result: the guest crashed, hung or timed out "
                          "before it")
        for n in self.checks:
            if n in self.pending_checks:
                self.fail(n, "no result: the guest crashed, hung or timed out "
                          "before it")


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    only = os.environ.get("GUEST_ONLY", "")
    if only:
        try:
            re.compile(only)
        except re.error as e:
            out("FAIL: guest/only (GUEST_ONLY is not a valid regular "
                "expression: %s)" % e)
            return 2
    rep = Report(sys.argv[1], only)
    # boot, heaps (once, or one per missing heap), every test and check
    out("PLAN: %d" % (2 + len(rep.tests) + len(rep.checks)))
    for raw in sys.stdin:
        rep.line(raw.rstrip("\r\n"))
    rep.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
