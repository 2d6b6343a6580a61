#!/usr/bin/env python3
"""cloak's TOML parser beside Python's tomllib, on the same inputs (test_toml_diff.py DUMP DIR):

- DIR/valid/*.toml: both accept, and the documents are equal, types and all (a bool is no int);
- DIR/invalid/*.toml: both refuse;
- DIR/unsupported/*.toml: tomllib accepts, cloak refuses saying it is not supported;
- DIR/stricter/*.toml: integers past 64 bits, which TOML 1.0 says must be refused and tomllib
  (Python's unbounded ints) takes: cloak refuses;
- then every valid file mutated (a seeded PRNG: bytes flipped, inserted, deleted, lines
  swapped), thousands of times: whatever tomllib refuses cloak refuses; whatever both accept is
  equal; what only tomllib accepts must be a feature cloak says it does not support.
Each mismatch is printed with its input; the exit status is the number of them (at most 100).
"""
import json
import pathlib
import random
import subprocess
import sys
import tomllib

dump, root = sys.argv[1], pathlib.Path(sys.argv[2])


def ours(docs):
    inp = b"".join(b"%d\n" % len(d) + d for d in docs)
    out = subprocess.run([dump], input=inp, capture_output=True, check=True).stdout
    lines = out.decode().splitlines()
    assert len(lines) == len(docs), "toml_dump answered %d of %d" % (len(lines), len(docs))
    return [(l[3:], None) if l.startswith("ok ") else (None, l[6:]) for l in lines]


def theirs(d):
    try:
        return tomllib.loads(d.decode("utf-8")), None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as e:
        return None, str(e)


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


UNSUPPORTED = ("not supported", "a key with a NUL", "out of the 64-bit range")
bad = []


def check(name, doc, got, want, expect):
    (mine, my_err), (ref, ref_err) = got, want
    if expect == "valid" and (mine is None or ref is None):
        bad.append((name, doc, "valid: ours=%s tomllib=%s" % (my_err, ref_err)))
    elif expect == "invalid" and (mine is not None or ref is not None):
        bad.append((name, doc, "invalid, yet accepted (ours=%s, tomllib=%s)" % (mine is not None, ref is not None)))
    elif expect == "stricter" and (mine is not None or "64-bit" not in my_err):
        bad.append((name, doc, "stricter: ours=%s" % my_err))
    elif expect == "unsupported" and (ref is None or mine is not None or not any(u in my_err for u in UNSUPPORTED)):
        bad.append((name, doc, "unsupported: ours=%s tomllib=%s" % (my_err, ref_err)))
    elif expect == "any":
        if ref is None and mine is not None:
            bad.append((name, doc, "tomllib refuses (%s), cloak accepts" % ref_err))
        elif ref is not None and mine is None and not any(u in my_err for u in UNSUPPORTED):
            bad.append((name, doc, "tomllib accepts, cloak refuses: %s" % my_err))
    if mine is not None and ref is not None and not same(json.loads(mine), ref):
        bad.append((name, doc, "different documents: %s vs %r" % (mine, ref)))


sets = {k: sorted((root / k).glob("*.toml")) for k in ("valid", "invalid", "unsupported", "stricter")}
for kind, files in sets.items():
    docs = [f.read_bytes() for f in files]
    for f, d, g in zip(files, docs, ours(docs)):
        check(f.name, d, g, theirs(d), kind)

rng = random.Random(20261202)
seeds = [f.read_bytes() for f in sets["valid"]]
alphabet = b' \t\n\r"\'#=[].,_-+0x1a\\u{}:e\x00\xff\xc3\xa9tf'
mutants = []
for _ in range(4000):
    d = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(4)
        at = rng.randrange(len(d) + 1)
        if op == 0 and d:
            d[min(at, len(d) - 1)] = rng.choice(alphabet)
        elif op == 1:
            d[at:at] = bytes([rng.choice(alphabet)])
        elif op == 2 and d:
            del d[min(at, len(d) - 1)]
        else:
            lines = bytes(d).split(b"\n")
            rng.shuffle(lines)
            d = bytearray(b"\n".join(lines))
    mutants.append(bytes(d))
for i, (d, g) in enumerate(zip(mutants, ours(mutants))):
    check("mutant %d" % i, d, g, theirs(d), "any")

for name, doc, why in bad[:20]:
    print("MISMATCH %s: %s\n  input: %r" % (name, why, doc[:300]))
print("%d inputs, %d mismatches" % (sum(len(v) for v in sets.values()) + len(mutants), len(bad)))
sys.exit(min(len(bad), 100))
