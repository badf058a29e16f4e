#!/usr/bin/env python3
"""Write the guest's list of tests from the cross build.

    make-job.py BUILD SRC SYSROOT OUTDIR [TIMEOUT_FACTOR] [OPTION...]

Options:
  --mount DIR       the guest mounts BUILD at DIR (default /mnt/build)
  --prefix P        test names start with P (e.g. "asan/")
  --per-heap-only   only the tests that run once per heap (those that
                    need a heap, which the build machine skips)
  --env VAR=VALUE   one more variable in every test's environment

Reads `meson introspect --tests BUILD` and writes
  OUTDIR/tests.sh     one `guest_test NAME TIMEOUT PER_HEAP REGISTRY SEED
                      env VAR=... CMD` line per test, for
                      scripts/guest/suite.sh
  OUTDIR/tests.names  "NAME PER_HEAP" per line, for the host to know which
                      results to expect
  OUTDIR/plugin-env.sh  the plugin path and registry most tests share, for
                      the guest's other GStreamer programs
Host paths become guest paths: BUILD -> /mnt/build, SRC -> /mnt/src and
the SYSROOT prefix (pkg-config adds it to variables such as pluginsdir) is
dropped, the arm64 root filesystem having those files at the same place.
Each test gets its own registry in the guest's /tmp. A test whose program
mentions GST_DMA_HEAP_TEST_HEAPS runs once per heap (PER_HEAP=1).
Timeouts are meson's times TIMEOUT_FACTOR (default 2): the guest is
emulated.
"""

import hashlib
import json
import os
import shlex
import subprocess
import sys


def main():
    args = sys.argv[1:]
    mount, prefix, per_heap_only, extra_env = "/mnt/build", "", False, {}
    positional = []
    while args:
        a = args.pop(0)
        if a == "--mount" and args:
            mount = args.pop(0)
        elif a == "--prefix" and args:
            prefix = args.pop(0)
        elif a == "--per-heap-only":
            per_heap_only = True
        elif a == "--env" and args and "=" in args[0]:
            k, _, v = args.pop(0).partition("=")
            extra_env[k] = v
        elif a.startswith("--"):
            sys.exit(__doc__)
        else:
            positional.append(a)
    if len(positional) not in (4, 5):
        sys.exit(__doc__)
    build, src, sysroot, outdir = (os.path.realpath(p) for p in positional[:4])
    factor = float(positional[4]) if len(positional) == 5 else 2.0
    tests = json.loads(subprocess.check_output(
        ["meson", "introspect", "--tests", build]))

    # Longest prefix first, in case one of them lies inside another.
    moves = sorted([(build, mount), (src, "/mnt/src"), (sysroot, "")],
                   key=lambda m: -len(m[0]))

    def guest_path(value):
        for old, new in moves:
            value = value.replace(old, new)
        return value

    lines, names, groups = [], [], {}
    for t in tests:
        name = prefix + t["name"]
        env = {k: guest_path(v) for k, v in (t.get("env") or {}).items()}
        # the guest's heaps, never the fake ones; no test may pass unasserted
        env.update(GST_DMA_HEAP_TEST_REAL="1", GST_DMA_HEAP_TEST_STRICT="1")
        env.update(extra_env)
        registry = "/tmp/registry/%s.registry" % name.replace("/", "_")
        env["GST_REGISTRY"] = registry
        # Tests that see the same plugins may start from the same registry.
        plugin_env = "\n".join("%s=%s" % (k, env.get(k)) for k in (
            "GST_PLUGIN_PATH", "GST_PLUGIN_PATH_1_0", "GST_PLUGIN_SYSTEM_PATH",
            "GST_PLUGIN_SYSTEM_PATH_1_0", "GST_PLUGIN_SCANNER_1_0"))
        seed = "/tmp/registry/seed-%s" % hashlib.sha256(
            plugin_env.encode()).hexdigest()[:12]
        group = groups.setdefault(seed, {"count": 0, "env": {}})
        group["count"] += 1
        group["env"] = {k: v for k, v in env.items() if k.startswith("GST_PLUGIN")}
        # files('x') arguments come as BUILD/../../x: resolved first, they
        # land in the source tree
        cmd = [guest_path(os.path.normpath(c) if c.startswith("/") else c)
               for c in t["cmd"]]
        try:
            with open(t["cmd"][0], "rb") as f:
                per_heap = b"GST_DMA_HEAP_TEST_HEAPS" in f.read()
        except OSError:
            per_heap = False
        if per_heap_only and not per_heap:
            continue
        timeout = int((t.get("timeout") or 30) * factor)
        if timeout <= 0:
            timeout = 3600
        words = ["guest_test", name, str(timeout), "1" if per_heap else "0",
                 registry, seed, "env"] + ["%s=%s" % kv for kv in sorted(env.items())] + cmd
        lines.append(" ".join(shlex.quote(w) for w in words))
        names.append("%s %d" % (name, per_heap))

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "tests.sh"), "w") as f:
        f.write("# written by scripts/guest/make-job.py\n")
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(outdir, "tests.names"), "w") as f:
        f.write("\n".join(names) + ("\n" if names else ""))
    # The plugin environment most tests share, for the pipeline checks:
    # they then use (and make, if they come first) the same registry.
    with open(os.path.join(outdir, "plugin-env.sh"), "w") as f:
        if groups:
            seed, group = max(groups.items(), key=lambda g: g[1]["count"])
            for k, v in sorted(group["env"].items()):
                f.write("export %s=%s\n" % (k, shlex.quote(v)))
            f.write("export GST_REGISTRY=%s\n" % shlex.quote(seed))


if __name__ == "__main__":
    main()
