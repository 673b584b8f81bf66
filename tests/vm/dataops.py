# SPDX-License-Identifier: GPL-2.0
# A seeded random file-data workload, run on the file system under test and,
# op for op, on a model directory in tmpfs: pwrite at odd offsets and lengths
# (holes left behind, writes past EOF), appends, truncates down and up, writes
# through a shared mmap, O_DIRECT writes and reads (aligned), fsync and
# fdatasync. Exits non-zero at the first op whose outcome differs (a short
# write, an errno, O_DIRECT read-back). The caller compares contents.
#
#   python3 dataops.py SEED OPS DIR MODEL
import mmap
import os
import random
import sys

seed, ops, real, model = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rnd = random.Random(seed)
NFILES = 6
MAXSIZE = 3 << 20


def both(name, fn):
    """Runs fn(path) on the real file and the model; the outcomes must agree."""
    out = []
    for top in (real, model):
        try:
            out.append(("ok", fn(os.path.join(top, name))))
        except OSError as e:
            out.append(("err", e.errno))
    if out[0] != out[1]:
        sys.exit(f"seed {seed}: {name}: real {out[0]}, model {out[1]}")
    return out[0]


def pwrite(path, off, data, flags=0):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, 0o644)
    try:
        return os.pwrite(fd, data, off)
    finally:
        os.close(fd)


def truncate(path, size):
    os.truncate(path, size)
    return size


def mmap_write(path, off, data):
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        off %= size
        data = data[: size - off]
        m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        m[off : off + len(data)] = data
        if rnd_flush:
            m.flush()
        m.close()
        return len(data)
    finally:
        os.close(fd)


def direct_write(path, off, nblocks):
    """O_DIRECT on the real file, a plain write on the model (tmpfs has no
    O_DIRECT); then the real file is read back with O_DIRECT."""
    buf = mmap.mmap(-1, nblocks * 4096)
    buf.write(bytes(rnd_bytes(nblocks * 4096)))
    if path.startswith(real):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644)
        try:
            n = os.pwritev(fd, [buf], off)
            back = mmap.mmap(-1, nblocks * 4096)
            r = os.preadv(fd, [back], off)
            if r != n or back[:] != buf[:]:
                raise SystemExit(f"seed {seed}: O_DIRECT read-back differs")
            return n
        finally:
            os.close(fd)
    return pwrite(path, off, buf[:])


def fsync(path, data_only):
    fd = os.open(path, os.O_RDONLY)
    try:
        (os.fdatasync if data_only else os.fsync)(fd)
        return 0
    finally:
        os.close(fd)


pattern_seed = seed * 7919


def rnd_bytes(n):
    return rnd.randbytes(n)


rnd_flush = False
for i in range(ops):
    name = f"f{rnd.randrange(NFILES)}"
    op = rnd.randrange(100)
    rnd_flush = rnd.random() < 0.5
    if op < 40:
        off = rnd.randrange(MAXSIZE)
        data = rnd_bytes(rnd.choice([1, 100, 511, 4095, 4096, 4097, 65536, 200000]))
        both(name, lambda p: pwrite(p, off, data))
    elif op < 55:
        data = rnd_bytes(rnd.randrange(1, 20000))
        both(name, lambda p: pwrite(p, 0, data, os.O_APPEND))
    elif op < 70:
        size = rnd.randrange(MAXSIZE)
        both(name, lambda p: (pwrite(p, 0, b"", 0), truncate(p, size))[1])
    elif op < 82:
        off = rnd.randrange(MAXSIZE)
        data = rnd_bytes(rnd.randrange(1, 30000))
        both(name, lambda p: mmap_write(p, off, data) if os.path.exists(p) else 0)
    elif op < 90:
        off = rnd.randrange(MAXSIZE // 4096) * 4096
        n = rnd.randrange(1, 17)
        state = rnd.getstate()
        # Both sides must write the same bytes: replay the generator.
        res = []
        for top in (real, model):
            rnd.setstate(state)
            res.append(direct_write(os.path.join(top, name), off, n))
        if res[0] != res[1]:
            sys.exit(f"seed {seed}: O_DIRECT wrote {res[0]}, model {res[1]}")
    else:
        both(name, lambda p: fsync(p, rnd.random() < 0.5) if os.path.exists(p) else 0)
print(f"seed {seed}: {ops} ops")
