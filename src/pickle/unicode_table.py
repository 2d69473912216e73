#!/usr/bin/env python3
"""Writes src/pickle/unicode_table.rs: the code points Python's str.isprintable() rejects."""
import unicodedata

ranges = []
start = None
for c in range(0x110000):
    nonprint = not chr(c).isprintable()
    if nonprint and start is None:
        start = c
    if not nonprint and start is not None:
        ranges.append((start, c - 1))
        start = None
if start is not None:
    ranges.append((start, 0x10FFFF))
print("//! Which code points Python's `str.isprintable()` rejects (Python 3.11, Unicode %s), as sorted"
      % unicodedata.unidata_version)
print("//! inclusive ranges, so the pickle repr escapes exactly what Python escapes.")
print("//!")
print("//! Generated; do not edit. To regenerate, run `python3 src/pickle/unicode_table.py > src/pickle/unicode_table.rs`.")
print()
print("/// Inclusive ranges of non-printable code points, sorted and disjoint.")
print("pub(crate) static NON_PRINTABLE: [(u32, u32); %d] = [" % len(ranges))
for a, b in ranges:
    print("    (0x%x, 0x%x)," % (a, b))
print("];")
