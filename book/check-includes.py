"""Fails if a {{#include}} in the book points at a missing file or anchor, or includes nothing.

mdbook only warns about these (and once rendered a missing README anchor as an empty section),
so CI runs this before `mdbook build`. Usage: python3 book/check-includes.py
"""
import os
import re
import sys

book = os.path.dirname(os.path.abspath(__file__))
source = os.path.join(book, "src")
include = re.compile(r"\{\{#(?:include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
problems = []
checked = 0
for name in sorted(os.listdir(source)):
    if not name.endswith(".md"):
        continue
    text = open(os.path.join(source, name), encoding="utf-8").read()
    for match in include.finditer(text):
        checked += 1
        target, _, anchor = match.group(1).partition(":")
        path = os.path.normpath(os.path.join(source, target))
        where = f"{name}: {{{{#include {match.group(1)}}}}}"
        if not os.path.isfile(path):
            problems.append(f"{where}: no file {path}")
            continue
        lines = open(path, encoding="utf-8").read().split("\n")
        if anchor and not anchor.isdigit() and ".." not in anchor:
            start = [i for i, line in enumerate(lines) if re.search(rf"ANCHOR:\s*{re.escape(anchor)}\b", line)]
            end = [i for i, line in enumerate(lines) if re.search(rf"ANCHOR_END:\s*{re.escape(anchor)}\b", line)]
            if len(start) != 1 or len(end) != 1 or end[0] <= start[0]:
                problems.append(f"{where}: anchor '{anchor}' not found once (start {start}, end {end})")
                continue
            body = [line for line in lines[start[0] + 1 : end[0]] if "ANCHOR" not in line]
        else:
            body = lines
        if not any(line.strip() for line in body):
            problems.append(f"{where}: includes no text")
for problem in problems:
    print("FAIL", problem)
if problems:
    sys.exit(f"check-includes: {len(problems)} of {checked} includes are broken")
print(f"check-includes: {checked} includes, every one resolves to text")
