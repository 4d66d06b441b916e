#!/usr/bin/env python3
"""Writes a C++ source defining `std::string_view NAME()` that returns the
bytes of INPUT, so a file (the page at /) is compiled into the binary.

    embed_file.py INPUT OUTPUT NAMESPACE::NAME HEADER
"""
import sys

src, out, qualified, header = sys.argv[1:5]
namespace, name = qualified.rsplit("::", 1)
data = open(src, "rb").read()
body = ",".join(str(b) for b in data)
with open(out, "w") as f:
    f.write(f'// Generated from {src.split("/")[-1]} by embed_file.py; do not edit.\n')
    f.write(f'#include "{header}"\n\n')
    f.write(f"namespace {namespace} {{\n\n")
    f.write(f"static const char kBytes[] = {{{body}}};\n\n")
    f.write(f"std::string_view {name}() {{ return std::string_view(kBytes, sizeof(kBytes)); }}\n\n")
    f.write(f"}}  // namespace {namespace}\n")
