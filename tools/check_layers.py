#!/usr/bin/env python3
"""Fails when a source file includes a folder above its layer.

Each top-level directory is one layer (docs/architecture.md "Layers"); a
file may include its own folder and the folders LAYERS lists for it, and
nothing else of ringkv. The build's library dependencies say the same
(meson.build), but a header can be included without linking anything, so
only this check catches an upward include that the linker never sees.

A public header may show less than its layer uses (PUBLIC): the header, and
every header of its own folder that it includes, directly or through
another, may include only the folders listed for it. So `client/client.h`
keeps the wire messages and the ring out of a client program even though
the client library itself is built on them.

Run by meson as the unit test `layers` (so `make test` and
tools/run_tests.py include it), or by hand:

    python3 tools/check_layers.py [SOURCE_ROOT]

A layer whose folder is missing (a wrong SOURCE_ROOT) and a built
top-level folder that LAYERS does not name are violations too, so the check
cannot pass by looking at nothing.

Prints one line per violation and exits 1 if there is any. Under
GTEST_OUTPUT=json:PATH it also writes a GoogleTest-style report, one case
per layer, per public header and one for unlisted folders, which
tools/run_tests.py counts like any other test's.
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
    "http": ["client", "replication", "ring", "storage", "rpc", "proto", "causality", "common"],
    "node": ["http", "antientropy", "replication", "ring", "storage", "rpc", "proto", "causality", "common"],
    "tools": ["node", "http", "antientropy", "client", "replication", "ring", "storage", "rpc", "proto", "causality",
              "common"],
}

# Public header -> the folders it (and what it includes of its own folder)
# may include besides its own.
PUBLIC = {
    "client/client.h": ["causality", "common"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"(([^"/]+)/[^"]*)"')


# Top-level folders the build compiles that are not layers: the tests may
# include any layer.
NOT_LAYERS = {"tests"}


def violations(root, layer):
    allowed = set(LAYERS[layer]) | {layer}
    if not os.path.isdir(os.path.join(root, layer)):
        return [f"{layer}/: layer folder is missing (is {root} the source root?)"]
    found = []
    for dirpath, _, files in os.walk(os.path.join(root, layer)):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            for lineno, folder, _, line in includes(root, rel):
                if folder not in allowed:
                    found.append(f"{rel}:{lineno}: {layer}/ may not include {folder}/ ({line})")
    return found


def unlisted(root):
    """Top-level folders with a meson.build that LAYERS does not name: their
    includes would go unchecked."""
    return [f"{name}/: built (meson.build) but not a layer of LAYERS"
            for name in sorted(os.listdir(root))
            if name not in LAYERS and name not in NOT_LAYERS
            and os.path.isfile(os.path.join(root, name, "meson.build"))]


def includes(root, rel):
    """(line number, folder, included path, line) of each ringkv include of `rel`."""
    found = []
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        return found
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                found.append((lineno, m.group(2), m.group(1), line.strip()))
    return found


def public_violations(root, header):
    own = header.split("/")[0]
    allowed = set(PUBLIC[header]) | {own}
    found, seen, todo = [], set(), [header]
    if not os.path.exists(os.path.join(root, header)):
        return [f"{header}: public header is missing"]
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        for lineno, folder, target, line in includes(root, rel):
            if folder not in allowed:
                via = "" if rel == header else f", reached from {header}"
                shown = ", ".join(f"{f}/" for f in sorted(allowed))
                found.append(f"{rel}:{lineno}: public header{via} may include only {shown} "
                             f"({line})")
            elif folder == own:
                todo.append(target)
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    results = {layer: violations(root, layer) for layer in LAYERS}
    results.update({header: public_violations(root, header) for header in PUBLIC})
    results["unlisted folders"] = unlisted(root)
    for found in results.values():
        for v in found:
            print(v)
    report = os.environ.get("GTEST_OUTPUT", "")
    if report.startswith("json:"):
        cases = [{"name": name, "status": "RUN", "result": "COMPLETED",
                  **({"failures": [{"failure": v} for v in found]} if found else {})}
                 for name, found in results.items()]
        with open(report[len("json:"):], "w") as f:
            json.dump({"testsuites": [{"name": "Layers", "testsuite": cases}]}, f)
    total = sum(len(found) for found in results.values())
    print(f"layers: {total} violation(s) in {len(LAYERS)} layers "
          f"and {len(PUBLIC)} public header(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
