#!/usr/bin/env python3
# Writes the seed corpus of the fuzz targets into tests/fuzz/corpus/.
# The files are committed; run this again only to change the seeds.
import os
import struct
import sys

top = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(top, "corpus")

KERNEL_LISTS = {
    "6.12": [b"reserved", b"system"],
    "dt": [b"ecc-off@78000000", b"linux,cma@7c000000", b"system"],
    "6.17": [b"default_cma_region", b"reserved", b"system"],
    "twins": [b"ecc-off@78000000", b"ecc-off@88000000", b"system"],
}

SPECS = {
    "default": (b"default", "6.12"),
    "ecc-off": (b"ecc-off", "dt"),
    "default-system": (b"default,system", "6.17"),
    "comma-name": (b"linux,cma,system", "dt"),
    "path": (b"/dev/dma_heap/system", "dt"),
    "path-comma": (b"/dev/dma_heap/linux,cma@7c000000", "dt"),
    "path-x": (b"/dev/dma_heap/x", "6.12"),
    "dotdot": (b"../x", "6.12"),
    "escape-path": (b"/dev/dma_heap/../../etc/passwd", "6.12"),
    "ambiguous": (b"ecc-off", "twins"),
    "spaces": (b"  ecc-off@78000000 , system ", "dt"),
    "lone-commas": (b",,", "dt"),
    "long-name": (b"a" * 300, "6.12"),
    "not-utf8": (b"sys\xfftem,\xc3", "6.12"),
    "control": (b"sys\x1btem\n", "6.12"),
    "fallback": (b"camera,ecc-off,default,system", "dt"),
}


def heap_spec():
    d = os.path.join(out, "fuzz-heap-spec")
    os.makedirs(d, exist_ok=True)
    for name, (spec, kernel) in SPECS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"\0".join([spec] + KERNEL_LISTS[kernel]))


STRUCTURED, VIDEO_META, VIDEO_ALIGNMENT, MAX_BYTES, FLAT = 1, 2, 4, 8, 16


def header(flags=0, fmt=0, min_=2, max_=0, size=0, width=0, height=0,
           prefix=0, padding=0, align=0, max_bytes=0, pad=(0, 0, 0, 0),
           stride_align=(0, 0, 0, 0)):
    return struct.pack("<BBBBIiiQQQQ4H4H", flags, fmt, min_, max_, size,
                       width, height, prefix, padding, align, max_bytes,
                       *pad, *stride_align)


POOL = {
    "nv12-1080p": header() + b"video/x-raw,format=NV12,width=1920,height=1080",
    "odd-size": header(size=1000) + b"video/x-raw,format=I420,width=17,height=9",
    "sizeimage": header(size=4 << 20) + b"video/x-raw,format=YUY2,width=640,height=480",
    "max-size": header() + b"video/x-raw,format=RGBA,width=2147483647,height=2147483647",
    "negative": header() + b"video/x-raw,format=NV12,width=-1,height=480",
    "zero": header() + b"video/x-raw,format=RGB,width=0,height=0",
    "tiled": header() + b"video/x-raw,format=NV12_8L128,width=539561472,height=2",
    "alternate": header() + b"video/x-raw(format:Interlaced),format=NV12,width=1920,height=1080,interlace-mode=alternate",
    "flat": header(size=4096) + b"application/octet-stream",
    "flat-zero": header() + b"audio/x-raw,rate=48000",
    "no-caps": header(size=4096),
    "prefix-wrap": header(size=100, prefix=2**64 - 10) + b"application/x-foo",
    "padding-wrap-cap": header(flags=MAX_BYTES, size=100, padding=2**64 - 4096,
                               max_bytes=16384) + b"application/x-foo",
    "align-max": header(size=100, align=2**64 - 1) + b"application/x-foo",
    "align-odd": header(size=100, align=6) + b"application/x-foo",
    "video-align": header(flags=VIDEO_META | VIDEO_ALIGNMENT, pad=(0, 8, 0, 64),
                          stride_align=(63, 31, 31, 0)) +
    b"video/x-raw,format=NV12,width=1920,height=1080",
    "video-align-huge": header(flags=VIDEO_META | VIDEO_ALIGNMENT,
                               pad=(65535, 65535, 65535, 65535),
                               stride_align=(65535, 65535, 65535, 65535)) +
    b"video/x-raw,format=NV12_4L4,width=65535,height=65535",
    "max-bytes": header(flags=MAX_BYTES, min_=3, max_=10,
                        max_bytes=3 * 1920 * 1088 * 2) +
    b"video/x-raw,format=NV12,width=1920,height=1080",
    # sizes GstVideoInfo of GStreamer 1.22 wraps
    "wrapped-y412": header() + b"video/x-raw,format=Y412_LE,width=715827752,height=1",
    "wrapped-tiled": header() + b"video/x-raw,format=NV12_8L128,width=238609164,height=3",
    "stride-align-odd": header(flags=VIDEO_META | VIDEO_ALIGNMENT,
                               stride_align=(5, 0, 0, 0)) +
    b"video/x-raw,format=NV12,width=640,height=480",
    "structured": header(flags=STRUCTURED | VIDEO_META, fmt=3, width=1280,
                         height=720),
    "structured-huge": header(flags=STRUCTURED, fmt=40, width=2**31 - 1,
                              height=3),
    "structured-flat": header(flags=STRUCTURED | FLAT, size=2**32 - 1,
                              prefix=2**32, padding=2**32),
}


def pool_config():
    d = os.path.join(out, "fuzz-pool-config")
    os.makedirs(d, exist_ok=True)
    for name, data in POOL.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    heap_spec()
    pool_config()
    sys.exit(0)
