#!/usr/bin/env python3
"""No function in the given C files is longer than the limit (default 80 lines, from its
opening brace to its closing one): the CLI's commands stay parse, load, act, report.
Usage: check_function_length.py [--max N] FILE..."""
import re, sys

args = sys.argv[1:]
limit = 80
if args[:1] == ["--max"]:
    limit, args = int(args[1]), args[2:]
bad, total = [], 0
for path in args:
    lines = open(path).read().split("\n")
    for i, line in enumerate(lines):
        if line == "{":  # in this tree's style, a brace alone at column 0 opens a function
            total += 1
            j = i + 1
            while j < len(lines) and lines[j] != "}":
                j += 1
            n = j - i + 1
            k = i - 1
            while k > 0 and not re.match(r"^[A-Za-z_]", lines[k]):
                k -= 1
            head = lines[k]
            if n > limit:
                bad.append(f"{path}:{i}: {head.strip()[:70]} is {n} lines (limit {limit})")
for b in bad:
    print(b, file=sys.stderr)
print(f"{total} functions, {len(bad)} over {limit} lines")
print(f"{total - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
