#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Seeded xattr and ACL workload for tests/vm/rw-xattr.sh. Run on a fresh
# file system it prints one line per operation (its outcome: OK, an errno
# name, or a value's digest), then a dump of every object's attributes and
# ACLs; the same seed on ext4 and on rext4 must print the same thing.
#   xattrops.py run ROOT SEED OPS   the workload, then the dump
#   xattrops.py dump ROOT           the dump only
import errno
import hashlib
import os
import random
import subprocess
import sys

NAMES = [
    "user.a", "user.bb", "user.mime_type", "user." + "n" * 200,
    "user.checksum.sha256", "trusted.overlay.origin", "trusted.t",
    "security.selinux", "security.capability",
]


def outcome(f, *a, **kw):
    try:
        r = f(*a, **kw)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    if isinstance(r, bytes):
        return "%d:%s" % (len(r), hashlib.sha256(r).hexdigest()[:16])
    if isinstance(r, list):
        return ",".join(sorted(r))
    return "OK"


def objects(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        if "lost+found" in dirs:
            dirs.remove("lost+found")
        for n in sorted(dirs + files):
            out.append(os.path.join(d, n))
    return sorted(out)


def acl(path):
    r = subprocess.run(["getfacl", "-cpn", path], capture_output=True, text=True)
    return r.stdout.strip().replace("\n", " ") if r.returncode == 0 else "getfacl:%d" % r.returncode


def dump(root):
    for p in objects(root):
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        attrs = []
        try:
            names = sorted(os.listxattr(p, follow_symlinks=False))
        except OSError as e:
            names = ["<%s>" % errno.errorcode[e.errno]]
        for n in names:
            if n.startswith("<"):
                attrs.append(n)
                continue
            # (security.capability goes through the capability LSM, which
            # refuses a value that is not a capability set: EINVAL.)
            attrs.append("%s=%s" % (n, outcome(os.getxattr, p, n, follow_symlinks=False)))
        line = "%s mode=%o %s" % (rel, st.st_mode, " ".join(attrs))
        if not os.path.islink(p):
            line += " acl[%s]" % acl(p)
        print(line)


def run(root, seed, ops, bs):
    rng = random.Random(seed)
    paths = []
    for k in range(10):
        p = os.path.join(root, "f%d" % k)
        open(p, "w").close()
        paths.append(p)
    for k in range(3):
        p = os.path.join(root, "d%d" % k)
        os.mkdir(p)
        paths.append(p)
    link = os.path.join(root, "ln")
    os.symlink("f0", link)
    paths.append(link)
    for i in range(ops):
        p = rng.choice(paths)
        name = rng.choice(NAMES)
        k = rng.randrange(12)
        size = rng.choice([0, 1, 7, 24, 60, 100, 250, bs // 2, bs // 2 + 300, bs - 100, bs + 100, 70000])
        value = bytes(rng.randrange(256) for _ in range(min(size, 4096))) * (size // 4096 + 1)
        value = value[:size]
        flags = rng.choice([0, 0, 0, os.XATTR_CREATE, os.XATTR_REPLACE])
        rel = os.path.relpath(p, root)
        if k < 6:
            r = outcome(os.setxattr, p, name, value, flags, follow_symlinks=False)
            print(i, "set", rel, name, size, flags, r)
        elif k < 8:
            r = outcome(os.removexattr, p, name, follow_symlinks=False)
            print(i, "remove", rel, name, r)
        elif k < 10:
            r = outcome(os.getxattr, p, name, follow_symlinks=False)
            print(i, "get", rel, name, r)
        else:
            r = outcome(os.listxattr, p, follow_symlinks=False)
            print(i, "list", rel, r)
    # Every name at the longest length and one past it.
    p = paths[0]
    print("name255", outcome(os.setxattr, p, "user." + "x" * 250, b"v"))
    print("name256", outcome(os.setxattr, p, "user." + "x" * 251, b"v"))
    # POSIX ACLs: set, inherit, chmod, remove.
    d = os.path.join(root, "acl")
    os.mkdir(d, 0o755)
    sh = lambda *a: subprocess.run(a, capture_output=True).returncode
    print("setfacl-d", sh("setfacl", "-d", "-m", "u:1001:rwx,g:100:rx,o::r", d))
    print("setfacl-m", sh("setfacl", "-m", "u:1000:rw,g:100:r", paths[1]))
    f = os.path.join(d, "inherited")
    os.close(os.open(f, os.O_CREAT | os.O_WRONLY, 0o666))
    os.mkdir(os.path.join(d, "subdir"), 0o777)
    os.mknod(os.path.join(d, "fifo"), 0o666 | 0o010000)
    os.chmod(paths[1], 0o640)
    print("setfacl-x", sh("setfacl", "-x", "u:1000", paths[1]))
    print("setfacl-b", sh("setfacl", "-b", paths[2]))
    print("setfacl-m2", sh("setfacl", "-m", "u:0:r", paths[3]))
    print("setfacl-b3", sh("setfacl", "-b", paths[3]))
    print("setfacl-file-default", sh("setfacl", "-d", "-m", "u:1:r", paths[4]))
    print("chmod-acl", outcome(os.chmod, f, 0o600))
    for p in [d, f, paths[1], paths[3]]:
        print("acl", os.path.relpath(p, root), acl(p), "mode=%o" % os.stat(p).st_mode)


def main():
    if sys.argv[1] == "run":
        root, seed, ops = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        run(root, seed, ops, os.statvfs(root).f_bsize)
        dump(root)
    else:
        dump(sys.argv[2])


main()
