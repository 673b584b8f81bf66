#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Builds test trees and compares file system views of them.

  treecmp.py gen DIR [--big] [--bigdir] [--no-old-times]
                                            make a tree exercising what the read path must serve
                                            (--big: a file needing extent depth 2 at 4k blocks;
                                            --bigdir: a directory of 20000 entries;
                                            --far: data near the 16 TiB offset limit)
  treecmp.py manifest DIR [--no-atime] [--direct]
                                            print a JSON manifest of DIR (stat, statx btime and
                                            attributes, lsattr flags and project id, contents
                                            hash, holes, xattrs, entries, links; --direct: also
                                            read files up to 16 MiB with O_DIRECT, which must
                                            give the same bytes)
  treecmp.py diff A.json B.json KEYS...     compare two manifests on the named fields
                                            ("all" = every field both have; "--no-root"
                                            leaves the root directory out); exit 1 on mismatch

Runs with the host's python3 inside the VM too (it uses only the standard
library and ctypes for statx).
"""
import ctypes, ctypes.util, errno, hashlib, json, os, random, socket, stat, sys

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
STATX_ALL = 0xFFF


class StatxTs(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_int64), ("tv_nsec", ctypes.c_uint32), ("_r", ctypes.c_int32)]


class Statx(ctypes.Structure):
    _fields_ = [("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32), ("attributes", ctypes.c_uint64),
                ("nlink", ctypes.c_uint32), ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32),
                ("mode", ctypes.c_uint16), ("_p1", ctypes.c_uint16), ("ino", ctypes.c_uint64),
                ("size", ctypes.c_uint64), ("blocks", ctypes.c_uint64), ("attributes_mask", ctypes.c_uint64),
                ("atime", StatxTs), ("btime", StatxTs), ("ctime", StatxTs), ("mtime", StatxTs),
                ("rdev_major", ctypes.c_uint32), ("rdev_minor", ctypes.c_uint32),
                ("dev_major", ctypes.c_uint32), ("dev_minor", ctypes.c_uint32), ("_spare", ctypes.c_uint64 * 14)]


libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def statx(path):
    """(btime in ns or None, [stx_attributes, stx_attributes_mask])."""
    st = Statx()
    if libc.statx(AT_FDCWD, os.fsencode(path), AT_SYMLINK_NOFOLLOW, STATX_ALL, ctypes.byref(st)) != 0:
        return None, None
    bt = st.btime.tv_sec * 10**9 + st.btime.tv_nsec if st.mask & 0x800 else None
    return bt, [st.attributes, st.attributes_mask]


def fileattrs(path, is_dir):
    """[FS_IOC_GETFLAGS flags, FS_IOC_FSGETXATTR xflags, projid,
    FS_IOC_GETVERSION generation] (lsattr -v)."""
    import fcntl, struct
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | (os.O_DIRECTORY if is_dir else 0)
    try:
        fd = os.open(path, flags)
    except OSError as ex:
        return "error:%s" % errno.errorcode.get(ex.errno, ex.errno)
    try:
        fl = struct.unpack_from("=i", fcntl.ioctl(fd, 0x80086601, bytes(8)))[0]
        xflags, _, _, projid = struct.unpack_from("=4I", fcntl.ioctl(fd, 0x801C581F, bytes(28)))
        # 8 bytes of 0xff: ext4 writes the generation into the first 4.
        version = fcntl.ioctl(fd, 0x80087601, b"\xff" * 8).hex()
        return [fl, xflags, projid, version]
    except OSError as ex:
        return "error:%s" % errno.errorcode.get(ex.errno, ex.errno)
    finally:
        os.close(fd)


def fs_ioctls(root):
    """What the file system ioctls answer on the root directory: the label
    (FS_IOC_GETFSLABEL), ext4's UUID ioctl (length query, a too-short
    buffer, bad flags, the UUID), the VFS's FS_IOC_GETFSUUID,
    EXT4_IOC_GETVERSION, an ioctl nobody knows, and the setters of label,
    UUID and generation, which a read-only mount refuses after the file
    system's own checks; then the setters again from an unprivileged
    process. Each answer as hex bytes (buffers start as 0xff, so the bytes
    the file system wrote show) or an errno name."""
    import fcntl, struct
    if not os.statvfs(root).f_flag & os.ST_RDONLY:
        # Never on a writable file system (the host's source trees): the
        # setters would change its label.
        return "skipped: not a read-only mount"
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)

    def ask(cmd, arg):
        try:
            return fcntl.ioctl(fd, cmd, arg).hex()
        except OSError as ex:
            return "error:%s" % errno.errorcode.get(ex.errno, ex.errno)

    def ff(n):
        return b"\xff" * n

    def uuid_req(length, flags):
        return struct.pack("=II", length, flags) + ff(16)

    setters = {
        "set_label": (0x41009432, b"new-label".ljust(256, b"\0")),
        "set_label_long": (0x41009432, b"x" * 17 + bytes(239)),
        "set_uuid": (0x4008662C, struct.pack("=II", 16, 0) + bytes(range(16))),
        "set_uuid_len": (0x4008662C, struct.pack("=II", 8, 0) + bytes(16)),
        "set_version": (0x40086604, struct.pack("=q", 7)),
        "set_version_old": (0x40087602, struct.pack("=q", 7)),
    }
    try:
        out = {
            "label": ask(0x81009431, ff(256)),
            "ext4_uuid_len": ask(0x8008662C, uuid_req(0, 0)),
            "ext4_uuid_short": ask(0x8008662C, uuid_req(8, 0)),
            "ext4_uuid_flags": ask(0x8008662C, uuid_req(16, 1)),
            "ext4_uuid": ask(0x8008662C, uuid_req(16, 0)),
            "fsuuid2": ask(0x80111500, ff(17)),
            "ext4_version": ask(0x80086603, ff(8)),
            "unknown": ask(0x80086663, ff(8)),
        }
        out.update({k: ask(cmd, arg) for k, (cmd, arg) in setters.items()})
        # The same setters as nobody (not the owner, no capabilities).
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                os.write(w, json.dumps({k: ask(cmd, arg) for k, (cmd, arg) in setters.items()}).encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            out["as_nobody"] = json.loads(f.read() or b"null")
        os.waitpid(pid, 0)
        return out
    finally:
        os.close(fd)


def data_map(fd, size):
    """The data ranges of a file by SEEK_DATA/SEEK_HOLE."""
    out, pos = [], 0
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            raise
        h = os.lseek(fd, d, os.SEEK_HOLE)
        out.append([d, h])
        pos = h
    return out


def fiemap(fd):
    """FS_IOC_FIEMAP: (logical, physical, length, flags) of every extent."""
    import fcntl, struct
    out, start = [], 0
    while True:
        n = 64
        req = bytearray(struct.pack("=QQLLLL", start, 2**64 - 1 - start, 0, 0, n, 0) + bytes(56 * n))
        fcntl.ioctl(fd, 0xC020660B, req)
        mapped = struct.unpack_from("=L", req, 20)[0]
        for i in range(mapped):
            lg, ph, ln, _, _, fl = struct.unpack_from("=QQQQQL", req, 32 + 56 * i)
            out.append([lg, ph, ln, fl])
        if mapped < n or (out and out[-1][3] & 1):
            return out
        start = out[-1][0] + out[-1][2]


def direct_sha256(path, size):
    """sha256 of a file read with O_DIRECT (1 MiB aligned reads), in the
    same form as the buffered "sha256" so the two must be equal."""
    import mmap
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as ex:
        return "error:%s" % errno.errorcode.get(ex.errno, ex.errno)
    buf = mmap.mmap(-1, 1 << 20)
    h = hashlib.sha256(b"@0:")
    try:
        left = size
        while left > 0:
            n = os.readv(fd, [buf])
            if n <= 0:
                break
            h.update(buf[:min(n, left)])
            left -= n
        return h.hexdigest()
    except OSError as ex:
        return "error:%s" % errno.errorcode.get(ex.errno, ex.errno)
    finally:
        os.close(fd)
        buf.close()


def fibmap(fd, block):
    """FIBMAP: the physical block of logical block `block` (root only)."""
    import fcntl, struct
    try:
        return struct.unpack("=i", fcntl.ioctl(fd, 1, struct.pack("=i", block)))[0]
    except OSError as ex:
        return "error:%s" % errno.errorcode.get(ex.errno, ex.errno)


def manifest(root, with_atime=True, direct=False):
    m = {}
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in [None] + sorted(dirs + files):
            p = dirpath if name is None else os.path.join(dirpath, name)
            if name is not None and name in dirs:
                continue  # described when walked
            rel = os.path.relpath(p, root)
            if rel.startswith("lost+found"):
                continue
            st = os.lstat(p)
            bt, attrs = statx(p)
            e = {"mode": st.st_mode, "uid": st.st_uid, "gid": st.st_gid, "size": st.st_size,
                 "nlink": st.st_nlink, "mtime": st.st_mtime_ns, "ctime": st.st_ctime_ns,
                 # mke2fs -d keeps whole seconds only.
                 "mtime_s": st.st_mtime_ns // 10**9,
                 "blocks": st.st_blocks, "btime": bt, "stx_attributes": attrs, "ino": st.st_ino}
            # Directories and non-empty files (not the 20000 empty ones of
            # the big directory: each costs three system calls, slow in the VM).
            if stat.S_ISDIR(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_size):
                e["fileattrs"] = fileattrs(p, stat.S_ISDIR(st.st_mode))
            if rel == ".":
                e["fs_ioctls"] = fs_ioctls(p)
            if with_atime:
                e["atime"] = st.st_atime_ns
            try:
                e["xattrs"] = {k: hashlib.sha256(os.getxattr(p, k, follow_symlinks=False)).hexdigest()
                               for k in sorted(os.listxattr(p, follow_symlinks=False))
                               if not k.startswith("system.") or k.startswith("system.posix_acl_")}
            except OSError as ex:
                e["xattrs"] = "error:%s" % errno.errorcode.get(ex.errno, ex.errno)
            if stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                fd = os.open(p, os.O_RDONLY)
                try:
                    e["data"] = data_map(fd, st.st_size)
                    if st.st_size <= 1 << 30:
                        segments = [[0, st.st_size]]
                    else:
                        # Too big to read whole: the data, plus a block at the
                        # start of every hole, which must read as zeros.
                        segments = e["data"] + [[end, min(end + 4096, st.st_size)] for _, end in e["data"]]
                    for start, end in segments:
                        os.lseek(fd, start, os.SEEK_SET)
                        h.update(b"@%d:" % start)
                        left = end - start
                        while left > 0:
                            b = os.read(fd, min(left, 1 << 20))
                            if not b:
                                break
                            h.update(b)
                            left -= len(b)
                    e["fiemap"] = fiemap(fd)
                    e["fibmap0"] = fibmap(fd, 0) if st.st_size else None
                finally:
                    os.close(fd)
                e["sha256"] = h.hexdigest()
                # Empty files have nothing to read (and the 20000-entry
                # directory is made of them: the VM is slow).
                if direct and 0 < st.st_size <= 16 << 20:
                    e["direct_read"] = "same" if direct_sha256(p, st.st_size) == e["sha256"] else "differs"
            elif stat.S_ISLNK(st.st_mode):
                e["target"] = os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                e["entries"] = sorted(os.listdir(p))
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                e["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
            m[rel] = e
    # Hard links: files sharing an inode, as groups of paths.
    by_ino = {}
    for rel, e in m.items():
        if not stat.S_ISDIR(e["mode"]):
            by_ino.setdefault(e["ino"], []).append(rel)
    for rel, e in m.items():
        e["links"] = sorted(by_ino.get(e["ino"], [rel])) if not stat.S_ISDIR(e["mode"]) else None
        del e["ino"]
    return m


def gen(root, big=False, old_times=True, bigdir=False, far=False):
    rnd = random.Random(1234)
    os.makedirs(root, exist_ok=True)
    w = lambda p, b: open(os.path.join(root, p), "wb").write(b)
    w("empty", b"")
    w("one-byte", b"x")
    w("small.txt", b"hello rext4\n" * 100)
    w("odd-size", bytes(rnd.getrandbits(8) for _ in range(12345)))
    w("large", os.urandom(3 * 1024 * 1024 + 17))
    # Sparse: holes at odd offsets, a hole at the end.
    with open(os.path.join(root, "sparse"), "wb") as f:
        for off in (0, 70001, 1 << 20, (5 << 20) + 4095):
            f.seek(off)
            f.write(os.urandom(3000))
        f.truncate(9 << 20)
    # Extent depth >= 2: more separate extents than one index level holds.
    with open(os.path.join(root, "fragmented"), "wb") as f:
        for i in range(1500 if big else 400):
            f.seek(i * 8192)
            f.write(bytes([i % 251 + 1]) * 1024)
    os.makedirs(os.path.join(root, "d1/d2/d3"), exist_ok=True)
    w("d1/d2/d3/deep", b"deep\n")
    w("x" * 255, b"longest name\n")
    w("y", b"shortest name\n")
    os.link(os.path.join(root, "small.txt"), os.path.join(root, "hardlink"))
    os.link(os.path.join(root, "small.txt"), os.path.join(root, "d1/hardlink2"))
    os.makedirs(os.path.join(root, "links"), exist_ok=True)
    for n in list(range(1, 70)) + [100, 500, 1000, 1023]:
        os.symlink(("t" * (n - 1)) + "/"[: n > 0], os.path.join(root, "links", "s%04d" % n))
    os.symlink("small.txt", os.path.join(root, "rel-link"))
    os.symlink("/nonexistent/abs", os.path.join(root, "abs-link"))
    os.mkfifo(os.path.join(root, "fifo"))
    os.mknod(os.path.join(root, "chardev"), stat.S_IFCHR | 0o600, os.makedev(1, 3))
    os.mknod(os.path.join(root, "blockdev"), stat.S_IFBLK | 0o600, os.makedev(7, 200))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(root, "sock"))
    s.close()
    os.makedirs(os.path.join(root, "owners"), exist_ok=True)
    for i, (u, g) in enumerate([(0, 0), (1, 1), (1000, 1000), (65534, 65534), (65536, 70000), (123456, 654321), (4000000000, 7)]):
        p = os.path.join(root, "owners", "f%d" % i)
        w(os.path.relpath(p, root), b"owned\n")
        os.chown(p, u, g)
        os.chmod(p, [0o644, 0o600, 0o755, 0o4755, 0o2711, 0o1777, 0o000][i])
    xa = os.path.join(root, "xattrs")
    w("xattrs", b"has xattrs\n")
    os.setxattr(xa, "user.small", b"v")
    os.setxattr(xa, "user.empty", b"")
    os.setxattr(xa, "user.medium", os.urandom(150))
    os.setxattr(xa, "user.big", os.urandom(600))
    os.setxattr(xa, "trusted.t", b"trusted value")
    os.setxattr(xa, "security.s", b"security value")
    import subprocess
    subprocess.run(["setfacl", "-m", "u:1000:rx,g:100:r,m:rx", os.path.join(root, "small.txt")], check=True)
    os.makedirs(os.path.join(root, "acldir"), exist_ok=True)
    subprocess.run(["setfacl", "-m", "u:4242:rwx", "-d", "-m", "u:1000:rwx,g::r", os.path.join(root, "acldir")],
                   check=True)
    os.makedirs(os.path.join(root, "xdir"), exist_ok=True)
    os.setxattr(os.path.join(root, "xdir"), "user.dir", b"on a directory")
    if old_times:
        os.makedirs(os.path.join(root, "times"), exist_ok=True)
        for name, sec in [("epoch", 0), ("y1901", -2147483000), ("y2038", 2147483647), ("y2040", 2208988800),
                          ("y2300", 10413792000), ("ns", 1700000000)]:
            p = os.path.join(root, "times", name)
            w(os.path.relpath(p, root), b"t\n")
            os.utime(p, ns=(sec * 10**9 + 123456789, sec * 10**9 + 987654321))
    if far:
        # Data near the largest offset ext4 allows with 4 KiB blocks (16 TiB).
        with open(os.path.join(root, "far"), "wb") as f:
            f.seek((1 << 44) - 3 * 4096)
            f.write(b"far away\n" * 100)
    if bigdir:
        d = os.path.join(root, "bigdir")
        os.makedirs(d, exist_ok=True)
        for i in range(20000):
            open(os.path.join(d, "entry-%05d-%s" % (i, "n" * (i % 40))), "wb").close()


def diff(a, b, keys):
    bad = 0
    # B is a source tree: compare only what mke2fs -d can carry over.
    source = "--source" in keys
    keys = [k for k in keys if k != "--source"]
    if "--no-root" in keys:
        # The root of an image is mke2fs's (lost+found, its own times).
        keys = [k for k in keys if k != "--no-root"]
        a = {p: e for p, e in a.items() if p != "."}
        b = {p: e for p, e in b.items() if p != "."}
    if set(a) != set(b):
        for p in sorted(set(a) ^ set(b))[:20]:
            print("only in %s: %s" % ("A" if p in a else "B", p))
        bad += 1
    for p in sorted(set(a) & set(b)):
        ks = set(a[p]) & set(b[p]) if keys == ["all"] else keys
        for k in sorted(ks):
            if source and k == "size" and stat.S_ISDIR(b[p]["mode"]):
                continue  # directory sizes are the format's, not the tree's
            if source and k == "mtime_s" and not -2**31 <= b[p]["mtime_s"] < 2**31:
                continue  # mke2fs -d stores 32-bit seconds only
            if a[p].get(k) != b[p].get(k):
                bad += 1
                if bad < 40:
                    print("%s: %s: %r != %r" % (p, k, a[p].get(k), b[p].get(k)))
    print("%d paths compared, %d differences" % (len(set(a) & set(b)), bad))
    return bad


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], big="--big" in sys.argv, old_times="--no-old-times" not in sys.argv,
            bigdir="--bigdir" in sys.argv, far="--far" in sys.argv)
    elif cmd == "manifest":
        json.dump(manifest(sys.argv[2], with_atime="--no-atime" not in sys.argv,
                           direct="--direct" in sys.argv), sys.stdout, sort_keys=True)
    elif cmd == "diff":
        a, b = (json.load(open(x)) for x in sys.argv[2:4])
        sys.exit(1 if diff(a, b, sys.argv[4:] or ["all"]) else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
