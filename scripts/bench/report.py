#!/usr/bin/env python3
"""Tables (and plot) of a benchmark run, from the guest's console.

    report.py --console LOG [--command CMD] [--markdown FILE] [--plot PNG]

Reads the "R <id> BENCH-<MODE> key=value ..." lines scripts/bench/guest.sh
prints, prints the tables on stdout, and when asked replaces the text
between "<!-- bench:begin -->" and "<!-- bench:end -->" of FILE with them
and draws CPU time per frame by pipeline into PNG (gnuplot, pngcairo).
"""

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def parse(path):
    results, errors, info = {}, [], []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("BENCH-INFO ") or line.startswith("host-load "):
                info.append(line.split(" ", 1)[1] if line.startswith("BENCH-INFO")
                            else "host load average before the boot: " + line.split(" ", 1)[1])
                continue
            m = re.match(r"^R (\S+) (BENCH-[A-Z]+) ?(.*)$", line)
            if not m:
                continue
            rid, kind, rest = m.groups()
            if kind == "BENCH-ERROR":
                errors.append((rid, rest))
                continue
            kv = dict(re.findall(r"(\w+)=(\S+)", rest))
            results.setdefault(rid, {})[kind] = kv
    return results, errors, info


def num(v):
    return float(v)


def ratio(a, b):
    return a / b if b else float("nan")


class Out:
    def __init__(self):
        self.lines = []
        self.verdicts = []

    def p(self, s=""):
        self.lines.append(s)

    def table(self, head, rows):
        self.p("| " + " | ".join(head) + " |")
        self.p("|" + "|".join(" --- " for _ in head) + "|")
        for r in rows:
            self.p("| " + " | ".join(str(c) for c in r) + " |")
        self.p()

    def verdict(self, what, ok, detail):
        self.verdicts.append((what, "met" if ok else "MISSED", detail))


def fmt_ratio(r):
    return "%.3f" % r


def reattach(kinds):
    r = kinds.get("BENCH-REATTACH")
    if not r:
        return "-"
    return "%s of %s" % (r["changed"], r["qbuf"])


def counts_section(o, res):
    o.p("### Steady state per frame: camera -> dmaheapupload -> display")
    o.p()
    o.p("`v4l2src io-mode=dmabuf-import ! dmaheapupload heap=H ! kmssink`, "
        "10 frames of warm-up, then 40 frames counted. Counts are exact "
        "(calls per frame over the window).")
    o.p()
    rows = []
    worst = {"heap_alloc": 0, "mmap_fd": 0, "bytes_copied": 0, "sync": 0}
    for rid in sorted(k for k in res if k.startswith("count/")):
        r = res[rid].get("BENCH-PIPE")
        if not r:
            continue
        _, heap, fmt, size, sink = rid.split("/")
        n = num(r["frames"])
        vals = {k: num(r[k]) / n for k in worst}
        for k in worst:
            worst[k] = max(worst[k], vals[k])
        rows.append([heap, fmt, size, sink, "%g" % vals["heap_alloc"],
                     "%g" % vals["mmap_fd"], "%g" % (num(r["munmap"]) / n),
                     "%g" % vals["bytes_copied"], "%g" % vals["sync"],
                     "%g" % (num(r["v4l2"]) / n), "%g" % (num(r["drm"]) / n),
                     reattach(res[rid]),
                     "%.2f" % (num(r["cpu_ns"]) / n / 1e6)])
    o.table(["heap", "format", "size", "sink", "heap allocs", "mmap (fd)",
             "munmap", "bytes copied", "DMA_BUF_IOCTL_SYNC", "V4L2 ioctls",
             "DRM ioctls", "re-attached QBUFs", "CPU ms"], rows)

    rows = []
    for rid in sorted(k for k in res if k.startswith("import/")):
        r = res[rid].get("BENCH-PIPE")
        if not r:
            continue
        _, size, pipe = rid.split("/")
        n = num(r["frames"])
        rows.append([size, "`%s`" % dict(PIPES).get(pipe, pipe),
                     "%g" % (num(r["v4l2"]) / n), "%g" % (num(r["drm"]) / n),
                     reattach(res[rid]),
                     "%.2f" % (num(r["cpu_ns"]) / n / 1e6)])
    if rows:
        o.p("\"re-attached QBUFs\" counts the V4L2 QBUFs that brought the "
            "camera's buffer index another dma-buf than it had, out of all "
            "QBUFs of the run (videobuf2's own count, at its debug level 3): "
            "each such QBUF detaches the old dma-buf and attaches and maps "
            "the new one in the kernel. GStreamer's own two paths, the same "
            "way (BGRx):")
        o.p()
        o.table(["size", "pipeline", "V4L2 ioctls", "DRM ioctls",
                 "re-attached QBUFs", "CPU ms"], rows)
    if rows:
        o.verdict("zero-copy path: 0 allocations, 0 mmaps, 0 bytes copied, "
                  "no sync, per frame", all(v == 0 for v in worst.values()),
                  "worst per frame: %s" % ", ".join(
                      "%s %g" % kv for kv in worst.items()))

    rows = []
    for rid in sorted(k for k in res if k.startswith("copy/")):
        r = res[rid].get("BENCH-PIPE")
        if not r:
            continue
        _, heap, fmt, size = rid.split("/")
        n = num(r["frames"])
        rows.append([heap, fmt, size, "%g" % (num(r["heap_alloc"]) / n),
                     "%g" % (num(r["mmap_fd"]) / n),
                     "%g" % (num(r["bytes_copied"]) / n),
                     "%g" % (num(r["sync"]) / n)])
    if rows:
        o.p("Copy path for comparison (system-memory frames from appsrc, "
            "copied into the heap by dmaheapupload): the CPU writes every "
            "frame, so one sync pair per frame is expected.")
        o.p()
        o.table(["heap", "format", "size", "heap allocs", "mmap (fd)",
                 "bytes copied", "DMA_BUF_IOCTL_SYNC"], rows)


PIPES = [
    ("dmaheapupload", "v4l2src io-mode=dmabuf-import ! dmaheapupload ! kmssink"),
    ("identity", "v4l2src io-mode=dmabuf-import ! identity ! kmssink"),
    ("kmssink-pool", "v4l2src io-mode=dmabuf-import ! kmssink"),
    ("v4l2-dmabuf", "v4l2src io-mode=dmabuf ! kmssink"),
]
CAMERA_PIPES = [
    ("camera-dmaheapupload",
     "v4l2src io-mode=dmabuf-import ! dmaheapupload ! fakesink"),
    ("camera-v4l2-dmabuf", "v4l2src io-mode=dmabuf ! fakesink"),
]


def cpu_data(res, key="cpu_ns"):
    """{size: {pipeline: {round: ms per frame}}}"""
    data = {}
    for rid, kinds in res.items():
        if not rid.startswith("cpu/") or "BENCH-PIPE" not in kinds:
            continue
        _, size, pipe, rnd = rid.split("/")
        r = kinds["BENCH-PIPE"]
        data.setdefault(size, {}).setdefault(pipe, {})[rnd] = (
            num(r[key]) / num(r["frames"]) / 1e6)
    return data


def paired_ratio(d, pipe, others):
    """Median over the rounds of pipe's time over the best of others in
    the same round."""
    rs = []
    for rnd, v in d.get(pipe, {}).items():
        best = [d[o][rnd] for o in others if rnd in d.get(o, {})]
        if best and min(best) > 0:
            rs.append(v / min(best))
    return statistics.median(rs) if rs else float("nan")


def cpu_section(o, res):
    o.p("### CPU time per frame by pipeline")
    o.p()
    o.p("User + system time of the whole process over the counted frames "
        "(BGRx, the camera region heap for dmaheapupload, `sync=false`, "
        "vivid at its highest rate), median of the rounds; each round "
        "runs the four pipelines one after the other. The last column is "
        "the median over the rounds of each round's own ratio, which "
        "cancels what a round shares (the host's load); the verdicts use "
        "it. User time alone is shown too: in this guest, system time also "
        "takes the interrupts that happen to hit the process, the noisiest "
        "part.")
    o.p()
    data = cpu_data(res)
    user = cpu_data(res, "user_ns")
    gst_paths = ("kmssink-pool", "v4l2-dmabuf")
    rows = []
    for size in sorted(data, key=lambda s: int(s.split("x")[0])):
        d = data[size]
        med = {p: statistics.median(v.values()) for p, v in d.items()}
        umed = {p: statistics.median(v.values())
                for p, v in user.get(size, {}).items()}
        gst = [med[p] for p in gst_paths if p in med]
        best = min(gst) if gst else float("nan")
        for p, desc in PIPES:
            if p not in med:
                continue
            rows.append([size, "`%s`" % desc, "%.2f" % med[p],
                         "%.2f .. %.2f" % (min(d[p].values()),
                                           max(d[p].values())),
                         "%.2f" % umed.get(p, float("nan")),
                         fmt_ratio(ratio(med[p], best)),
                         fmt_ratio(paired_ratio(d, p, gst_paths))])
        if "dmaheapupload" in med and gst:
            r = paired_ratio(d, "dmaheapupload", gst_paths)
            o.verdict("CPU per frame at %s against the best GStreamer path "
                      "(<= 1.05x)" % size, r <= 1.05, "%.3fx" % r)
        if "dmaheapupload" in med and "kmssink-pool" in med:
            r = paired_ratio(d, "dmaheapupload", ("kmssink-pool",))
            o.verdict("CPU per frame at %s against GStreamer's import path, "
                      "`v4l2src io-mode=dmabuf-import ! kmssink` (<= 1.05x)"
                      % size, r <= 1.05, "%.3fx" % r)
        if "dmaheapupload" in med and "identity" in med:
            r = paired_ratio(d, "dmaheapupload", ("identity",))
            o.verdict("dmaheapupload against identity in the pipeline at %s "
                      "(<= 1.05x)" % size, r <= 1.05, "%.3fx" % r)
    o.table(["size", "pipeline", "CPU ms/frame (median)", "range",
             "user ms/frame (median)", "x best GStreamer path (medians)",
             "x best GStreamer path (median of rounds)"], rows)

    rows = []
    for size in sorted(data, key=lambda s: int(s.split("x")[0])):
        d = data[size]
        for p, desc in CAMERA_PIPES:
            if p not in d:
                continue
            c = statistics.median(d[p].values())
            u = statistics.median(user[size][p].values())
            rows.append([size, "`%s`" % desc, "%.2f" % c, "%.2f" % u,
                         "%.2f" % (c - u),
                         fmt_ratio(paired_ratio(d, p, ("camera-v4l2-dmabuf",)))])
    if rows:
        o.p("The camera alone, in the same rounds: the same two ways of "
            "getting frames out of vivid, into `fakesink` instead of the "
            "display.")
        o.p()
        o.table(["size", "pipeline", "CPU ms/frame (median)",
                 "user ms/frame (median)", "system ms/frame (cpu - user)",
                 "x io-mode=dmabuf (median of rounds)"], rows)

    rows = []
    for rid in sorted(k for k in res if k.startswith("chain/")):
        r = res[rid].get("BENCH-CHAIN")
        if not r:
            continue
        rr = (num(r["ratio_ppm"]) / 1e6 if "ratio_ppm" in r
              else ratio(num(r["upload_ns"]), num(r["identity_ns"])))
        rows.append([r["heap"], r["iters"], "%.2f" % (num(r["upload_ns"]) / 1e3),
                     "%.2f" % (num(r["identity_ns"]) / 1e3), fmt_ratio(rr),
                     r["syscalls"]])
        o.verdict("element overhead per buffer, dmaheapupload against "
                  "identity, %s (<= 1.05x)" % r["heap"], rr <= 1.05, "%.3fx" % rr)
    if rows:
        o.p("Element overhead alone: a heap buffer pushed from a pad into the "
            "element, `fakesink` after it; CPU per buffer, alternating blocks "
            "of about 100 ms, the ratio being the median of 15 rounds'.")
        o.p()
        o.table(["heap", "buffers", "dmaheapupload us", "identity us",
                 "ratio", "system calls"], rows)


def alloc_section(o, res):
    o.p("### Allocator: alloc + free")
    o.p()
    o.p("`gst_allocator_alloc()` + `gst_memory_unref()` on a "
        "GstDmaHeapAllocator without a label (the default) against "
        "`DMA_HEAP_IOCTL_ALLOC` + `close()` on the same open heap (raw), "
        "and against the same ioctl wrapped by GStreamer's own "
        "`gst_dmabuf_allocator_alloc()` (the least any GstMemory costs); "
        "the last columns are the allocator with a label, which names every "
        "dma-buf (`DMA_BUF_SET_NAME`). CPU time per allocation, mean over "
        "the rounds; the ratios are the medians of the rounds' ratios (each "
        "round runs the four ways one after the other, in blocks of about "
        "100 ms).")
    o.p()
    rows = []
    worst_raw = worst_wrap = 0
    for rid in sorted((k for k in res if k.startswith("alloc/")),
                      key=lambda k: (k.split("/")[1], int(k.split("/")[2]))):
        r = res[rid].get("BENCH-ALLOC")
        if not r:
            continue
        x_raw = num(r["ours_ppm"]) / 1e6
        x_wrap = num(r["ours_wrap_ppm"]) / 1e6
        worst_raw = max(worst_raw, x_raw)
        worst_wrap = max(worst_wrap, x_wrap)
        size = int(r["size"])
        rows.append([r["heap"], "%d KiB" % (size // 1024), r["iters"],
                     "%.1f" % (num(r["raw_ns"]) / 1e3),
                     "%.1f" % (num(r["wrap_ns"]) / 1e3),
                     "%.1f" % (num(r["ours_ns"]) / 1e3),
                     fmt_ratio(x_raw), fmt_ratio(x_wrap),
                     "%.1f" % (num(r["named_ns"]) / 1e3),
                     fmt_ratio(num(r["named_ppm"]) / 1e6),
                     "%s / %s / %s" % (r["raw_ioctl"], r["ours_ioctl"],
                                       r["named_ioctl"])])
    o.table(["heap", "size", "allocations", "raw us", "GstDmaBufAllocator us",
             "allocator us", "x raw", "x GstDmaBufAllocator",
             "labelled us", "labelled x raw",
             "ioctls raw / allocator / labelled"], rows)
    if rows:
        o.verdict("allocator against raw ioctl, every heap and size (<= 1.10x)",
                  worst_raw <= 1.10, "worst %.3fx" % worst_raw)
        o.verdict("allocator against GStreamer's GstDmaBufAllocator on the "
                  "same ioctl, every heap and size (<= 1.10x)",
                  worst_wrap <= 1.10, "worst %.3fx" % worst_wrap)

    rows = []
    for rid in sorted(k for k in res if k.startswith("pool/")):
        r = res[rid].get("BENCH-POOL")
        if not r:
            continue
        rows.append([r["heap"], r["format"], r["size"], r["iters"],
                     "%.2f" % (num(r["ours_ns"]) / 1e3),
                     "%.2f" % (num(r["system_ns"]) / 1e3),
                     fmt_ratio(ratio(num(r["ours_ns"]), num(r["system_ns"]))),
                     "%s / %s / %s" % (r["ours_ioctl"], r["ours_mmap"],
                                       r["ours_alloc"])])
    if rows:
        o.p("Pool: acquire + release on a GstDmaHeapBufferPool against a "
            "GstVideoBufferPool on system memory (4 buffers, video meta).")
        o.p()
        o.table(["heap", "format", "size", "cycles", "heap pool us",
                 "system pool us", "ratio",
                 "ioctls / mmaps / allocs in the loop"], rows)


def copy_section(o, res):
    o.p("### Copy path: upstream ignores the pool")
    o.p()
    o.p("System-memory frames copied into heap buffers, as bytes per CPU "
        "second against `memcpy()` of the same frames into as many malloc'd "
        "frames in the same process (x memcpy: higher is better, 1.0 is "
        "memcpy's speed):")
    o.p()
    o.p("- *heap memcpy*: `memcpy()` into heap memories through "
        "`gst_memory_map()`, which brackets each frame with the two "
        "`DMA_BUF_IOCTL_SYNC` calls every CPU write into a dma-buf needs: "
        "the least a copy into the heap costs;")
    o.p("- *element*: the frames pushed from a pad into `dmaheapupload "
        "heap=H ! fakesink` in the same thread: what the element adds "
        "(pool, map, copy, metadata) per frame;")
    o.p("- *pipeline*: `appsrc ! dmaheapupload heap=H ! fakesink`, the "
        "whole process (appsrc's queue and thread, the sink): what an "
        "application sees.")
    o.p()
    o.p("Blocks of about 100 ms alternate within each round; the element "
        "and heap ratios are the medians of 15 rounds.")
    o.p()
    rows = []
    worst_el = worst_pipe = None
    keys = sorted({k.split("/", 1)[1] for k in res
                   if k.startswith("copy/") or k.startswith("copyel/")},
                  key=lambda k: (k.split("/")[0], k.split("/")[1],
                                 -int(k.split("/")[2].split("x")[0])))
    for key in keys:
        heap, fmt, size = key.split("/")
        el = res.get("copyel/" + key, {}).get("BENCH-COPY")
        r = res.get("copy/" + key, {}).get("BENCH-PIPE")
        m = res.get("copy/" + key, {}).get("BENCH-MEMCPY")
        row = [heap, fmt, size]
        if el:
            b = num(el["bytes"])
            plain = b / (num(el["memcpy_ns"]) / 1e9)
            x_heap = num(el["heap_ppm"]) / 1e6
            x_el = num(el["element_ppm"]) / 1e6
            worst_el = x_el if worst_el is None else min(worst_el, x_el)
            row += ["%.0f" % (plain / 1e6),
                    "%.0f (%s)" % (b / (num(el["heap_ns"]) / 1e9) / 1e6,
                                   fmt_ratio(x_heap)),
                    "%.0f (%s)" % (b / (num(el["element_ns"]) / 1e9) / 1e6,
                                   fmt_ratio(x_el)),
                    "%.1f" % ((num(el["element_ns"]) - num(el["memcpy_ns"]))
                              / 1e3),
                    el["element_sync"]]
        else:
            row += ["-"] * 5
        if r and m:
            ours = num(r["bytes_copied"]) / (num(r["cpu_ns"]) / 1e9)
            plain = num(m["bytes"]) / (num(m["cpu_ns"]) / 1e9)
            x_pipe = ratio(ours, plain)
            worst_pipe = x_pipe if worst_pipe is None else min(worst_pipe,
                                                               x_pipe)
            row.append("%.0f (%s)" % (ours / 1e6, fmt_ratio(x_pipe)))
        else:
            row.append("-")
        rows.append(row)
    o.table(["heap", "format", "size", "memcpy MB/s",
             "heap memcpy MB/s (x memcpy)", "element MB/s (x memcpy)",
             "element us per frame over memcpy", "syncs per frame",
             "pipeline MB/s (x memcpy)"], rows)
    if worst_el is not None:
        o.verdict("copy path: dmaheapupload copying frames, against memcpy "
                  "(>= 0.9x)", worst_el >= 0.9, "worst %.3fx" % worst_el)
    if worst_pipe is not None:
        o.verdict("copy path: whole appsrc pipeline, against memcpy "
                  "(>= 0.9x)", worst_pipe >= 0.9, "worst %.3fx" % worst_pipe)


def map_section(o, res):
    o.p("### CPU map cost: map, write the frame, unmap")
    o.p()
    o.p("`gst_memory_map(WRITE)`, `memset()` of the whole frame, "
        "`gst_memory_unmap()` on one memory of the heap; the last column "
        "is the same on a system-memory GstMemory, as a reference.")
    o.p()
    rows = []
    sys_ns = {}
    for rid, kinds in res.items():
        r = kinds.get("BENCH-MAP")
        if r and r["heap"] == "system":
            sys_ns[r["size"]] = num(r["heap_ns"])
    for rid in sorted(k for k in res if k.startswith("map/")):
        r = res[rid].get("BENCH-MAP")
        if not r:
            continue
        h = num(r["heap_ns"])
        rows.append([r["heap"], r["format"], r["size"], "%.2f" % (h / 1e6),
                     fmt_ratio(ratio(h, sys_ns.get(r["size"], float("nan")))),
                     r["sync_per_map"], "%.2f" % (num(r["sysmem_ns"]) / 1e6)])
    o.table(["heap", "format", "size", "ms per map+write+unmap",
             "x system heap", "syncs per map", "system memory ms"], rows)


def plot(res, png):
    data = cpu_data(res)
    if not data:
        return
    sizes = sorted(data, key=lambda s: int(s.split("x")[0]))
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "cpu.dat")
        with open(dat, "w") as f:
            for i, size in enumerate(sizes):
                for j, (p, _) in enumerate(PIPES):
                    v = list(data[size].get(p, {}).values())
                    if not v:
                        continue
                    f.write("%d %d \"%s\" %f %f %f\n" % (
                        i, j, p, statistics.median(v), min(v), max(v)))
                f.write("\n\n")
        colours = ["#1f77b4", "#7f7f7f", "#2ca02c", "#ff7f0e"]
        script = [
            "set terminal pngcairo size 1100,520 font 'sans,11'",
            "set output '%s'" % png,
            "set multiplot layout 1,%d title 'CPU time per frame (user + system, "
            "median of rounds, bars: min..max), arm64 guest under QEMU TCG'" % len(sizes),
            "set style fill solid 0.85 border -1",
            "set boxwidth 0.7",
            "set grid ytics",
            "set yrange [0:*]",
            "set ylabel 'ms per frame'",
            "set xrange [-0.6:%f]" % (len(PIPES) - 0.4),
            "set xtics rotate by -20 ('dmaheapupload' 0, 'identity' 1, "
            "'kmssink pool' 2, 'v4l2src dmabuf' 3)",
            "unset key",
        ]
        for i, size in enumerate(sizes):
            script.append("set title 'BGRx %s'" % size)
            script.append(
                "plot '%s' index %d using 2:4:(0.7):(word('%s', int($2)+1)) "
                "with boxes lc rgb variable, '' index %d using 2:4:5:6 with "
                "yerrorbars lc rgb 'black' pt -1, '' index %d using 2:4:"
                "(sprintf('%%.2f', $4)) with labels offset 0,1.2"
                % (dat, i, " ".join(colours), i, i))
        script.append("unset multiplot")
        # 'lc rgb variable' takes a number: map the colour words to ints.
        text = "\n".join(script)
        text = text.replace(
            "using 2:4:(0.7):(word('%s', int($2)+1)) with boxes lc rgb variable"
            % " ".join(colours),
            "using 2:4:(0.7):(int(word('%s', int($2)+1))) with boxes lc rgb variable"
            % " ".join(str(int(c[1:], 16)) for c in colours))
        subprocess.run(["gnuplot"], input=text, text=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--command", default="scripts/bench/run")
    ap.add_argument("--markdown")
    ap.add_argument("--plot")
    a = ap.parse_args()

    res, errors, info = parse(a.console)
    o = Out()
    o.p("Measured %s with `%s` (arm64 guest, QEMU TCG, 2 vCPUs)." % (
        datetime.date.today().isoformat(), a.command))
    o.p()
    for i in info:
        o.p("- " + i)
    o.p()
    counts_section(o, res)
    cpu_section(o, res)
    alloc_section(o, res)
    copy_section(o, res)
    map_section(o, res)
    o.p("### Targets")
    o.p()
    o.table(["target", "result", "figure"], [list(v) for v in o.verdicts])
    if errors:
        o.p("### Runs that failed")
        o.p()
        for rid, e in errors:
            o.p("- `%s`: %s" % (rid, e[:300]))
        o.p()

    text = "\n".join(o.lines).rstrip() + "\n"
    sys.stdout.write(text)

    if a.plot:
        plot(res, a.plot)
    if a.markdown:
        with open(a.markdown) as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            sys.exit("%s has no %s ... %s markers" % (a.markdown, BEGIN, END))
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(a.markdown, "w") as f:
            f.write(head + BEGIN + "\n" + text + END + tail)


if __name__ == "__main__":
    main()
