#!/usr/bin/env python3
"""Writes src/pickle/compat_table.rs: CPython's _compat_pickle mappings from Python 2 names."""
import _compat_pickle as c
import sys

print("//! Python 2 names that `pickle.loads` maps to Python 3 ones for protocols 0 to 2 (CPython's")
print("//! `_compat_pickle`, the tables `Unpickler.find_class` uses when `fix_imports` is on).")
print(f"//! Generated from Python {sys.version.split()[0]}; do not edit. To regenerate, run")
print("//! `python3 src/pickle/compat_table.py > src/pickle/compat_table.rs && cargo fmt`.")
print()
print("/// A global's module and name.")
print("pub(crate) type Name = (&'static str, &'static str);")
print()
print("/// (module, name) -> (module, name), sorted.")
print("pub(crate) static NAME_MAPPING: &[(Name, Name)] = &[")
for (m, n), (m2, n2) in sorted(c.NAME_MAPPING.items()):
    print(f'    (("{m}", "{n}"), ("{m2}", "{n2}")),')
print("];")
print()
print("/// module -> module, sorted.")
print("pub(crate) static IMPORT_MAPPING: &[(&str, &str)] = &[")
for m, m2 in sorted(c.IMPORT_MAPPING.items()):
    print(f'    ("{m}", "{m2}"),')
print("];")
