#!/usr/bin/env python3
"""Fails when a source file includes a folder above its layer.

Each top-level directory is one layer (docs/architecture.md "Layers"); a
file may include its own folder and the folders LAYERS lists for it, and
nothing else of ringkv. The build's library dependencies say the same
(meson.build), but a header can be included without linking anything, so
only this check catches an upward include that the linker never sees.

Run by meson as the unit test `layers` (so `make test` and
tools/run_tests.py include it), or by hand:

    python3 tools/check_layers.py [SOURCE_ROOT]

Prints one line per violation and exits 1 if there is any. Under
GTEST_OUTPUT=json:PATH it also writes a GoogleTest-style report, one case
per layer, which tools/run_tests.py counts like any other test's.
"""
import json
import os
import re
import sys

# Layer -> the folders it may include besides its own. Keep in the order of
# the root meson.build's subdir()s; a new top-level folder needs a line here.
LAYERS = {
    "common": [],
    "causality": ["common"],
    "proto": ["causality", "common"],
    "rpc": ["proto", "causality", "common"],
    "storage": ["common"],
    "ring": ["rpc", "proto", "causality", "common"],
    "replication": ["ring", "storage", "rpc", "proto", "causality", "common"],
    "antientropy": ["replication", "ring", "storage", "rpc", "proto", "causality", "common"],
    "client": ["ring", "proto", "causality", "common"],
    "node": ["antientropy", "replication", "ring", "storage", "rpc", "proto", "causality", "common"],
    "tools": ["node", "antientropy", "client", "replication", "ring", "storage", "rpc", "proto", "causality",
              "common"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/[^"]*"')


def violations(root, layer):
    allowed = set(LAYERS[layer]) | {layer}
    found = []
    for dirpath, _, files in os.walk(os.path.join(root, layer)):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) not in allowed:
                        rel = os.path.relpath(path, root)
                        found.append(f"{rel}:{lineno}: {layer}/ may not include "
                                     f"{m.group(1)}/ ({line.strip()})")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    results = {layer: violations(root, layer) for layer in LAYERS}
    for found in results.values():
        for v in found:
            print(v)
    report = os.environ.get("GTEST_OUTPUT", "")
    if report.startswith("json:"):
        cases = [{"name": layer, "status": "RUN", "result": "COMPLETED",
                  **({"failures": [{"failure": v} for v in found]} if found else {})}
                 for layer, found in results.items()]
        with open(report[len("json:"):], "w") as f:
            json.dump({"testsuites": [{"name": "Layers", "testsuite": cases}]}, f)
    total = sum(len(found) for found in results.values())
    print(f"layers: {total} upward include(s) in {len(LAYERS)} layers")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
