#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Corrupted-image generator for the read path's robustness test.

  mutate.py plan BASE.img META.raw COUNT SEED > PLAN
      Picks COUNT mutations of BASE.img, each a few bit flips or byte
      overwrites inside metadata blocks. Metadata blocks are found with
      e2image -r (META.raw: the image with every data block a hole), so the
      choice rests on e2fsprogs' idea of what metadata is. One line per
      mutation: "offset:op:value" edits, op x (xor) or s (set); the VM
      applies a line with `vmtools patch`.
"""
import json, os, random, sys


def metadata_ranges(raw, bs):
    fd = os.open(raw, os.O_RDONLY)
    size = os.fstat(fd).st_size
    out, pos = [], 0
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError:
            break
        h = os.lseek(fd, d, os.SEEK_HOLE)
        for b in range(d // bs, (h + bs - 1) // bs):
            out.append(b)
        pos = h
    os.close(fd)
    return out


def plan(base, raw, count, seed):
    rnd = random.Random(seed)
    with open(base, "rb") as f:
        f.seek(1024 + 24)
        bs = 1024 << int.from_bytes(f.read(4), "little")
    blocks = metadata_ranges(raw, bs)
    muts = []
    for i in range(count):
        edits = []
        for _ in range(rnd.choice([1, 1, 2, 3])):
            blk = rnd.choice(blocks)
            if rnd.random() < 0.15:
                blk = 1 if bs == 1024 else 0  # the super block, often
            for _ in range(rnd.choice([1, 2, 4, 8])):
                off = blk * bs + rnd.randrange(bs)
                if blk * bs <= 1024 < (blk + 1) * bs and rnd.random() < 0.7:
                    off = 1024 + rnd.randrange(1024)
                kind = rnd.random()
                if kind < 0.5:
                    edits.append([off, "xor", 1 << rnd.randrange(8)])
                elif kind < 0.8:
                    edits.append([off, "set", rnd.choice([0, 0xff, 0x7f, 0x80, 1])])
                else:
                    edits.append([off, "set", rnd.randrange(256)])
        muts.append(edits)
    return muts



if __name__ == "__main__":
    if sys.argv[1] == "plan":
        for edits in plan(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])):
            print(" ".join("%d:%s:%d" % (off, "x" if kind == "xor" else "s", v) for off, kind, v in edits))
    else:
        sys.exit(__doc__)
