#!/usr/bin/env python3
"""runner_static.py: swarmdeck-runner is a static executable (no PT_INTERP, no PT_DYNAMIC), so
it runs in an empty sandbox or microVM. Only registered for non-sanitizer builds.

Usage: runner_static.py RUNNER
"""
import struct
import sys

data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\x7fELF" and data[4] == 2, "not a 64-bit ELF file"
phoff, = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
types = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
PT_DYNAMIC, PT_INTERP = 2, 3
bad = [t for t in types if t in (PT_DYNAMIC, PT_INTERP)]
print("runner_static: %d program headers, dynamic/interp: %d" % (len(types), len(bad)))
sys.exit(1 if bad or not types else 0)
