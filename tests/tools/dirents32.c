// SPDX-License-Identifier: GPL-2.0
/*
 * dirents32 ROOT: `vmtools dirents ROOT` as a 32-bit (i386) process.
 *
 * A directory read through a compat syscall gets 32-bit positions from ext4:
 * hash cookies are major_hash >> 1 and the end of an indexed directory is
 * 0x7fffffff instead of 0x7fffffffffffffff (ext4's is_32bit_api()). This
 * program lists every directory below ROOT with getdents64 and _llseek made
 * through int $0x80, so the kernel sees in_compat_syscall(), and prints the
 * listing in vmtools' format (one "D rel" line per directory, then
 * "d_off d_type d_ino name" per entry). Like vmtools it re-reads each
 * directory with a 300-byte buffer and from the cookie before its middle
 * entry (and from 0), and prints MISMATCH lines when a resumed listing
 * differs. It also prints "E pos" with the directory's lseek(0, SEEK_END),
 * and "V ..." with the generation through the compat ioctl numbers
 * (EXT4_IOC32_GETVERSION, FS_IOC32_GETVERSION; and the native
 * EXT4_IOC_GETVERSION, which ext4_compat_ioctl() does not know); for the
 * root also "L ..." (the first 20 bytes FS_IOC_GETFSLABEL leaves in a
 * 0xff-filled buffer) and "S ..." (the 32-bit SETVERSION commands and
 * FS_IOC_SETFSLABEL, refused on a read-only mount).
 *
 * The guest has no 32-bit libc, so this is freestanding: built with
 *   gcc -m32 -static -nostdlib -ffreestanding -fno-pic -fno-stack-protector
 * using only 32-bit arithmetic (no libgcc). Exit status 0, 1 when a check
 * failed, 2 on bad usage or when out of memory.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define NR_exit_group 252
#define NR_write 4
#define NR_close 6
#define NR_llseek 140
#define NR_getdents64 220
#define NR_openat 295
#define NR_ioctl 54
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_LARGEFILE 0100000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define DIR_FLAGS (O_RDONLY | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW)
#define SEEK_SET 0
#define SEEK_END 2
#define DT_DIR 4
#define DT_UNKNOWN 0

static long sys5(long nr, long a, long b, long c, long d, long e)
{
	long ret;
	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
		     : "memory");
	return ret;
}

#define sys3(nr, a, b, c) sys5(nr, (long)(a), (long)(b), (long)(c), 0, 0)

void *memcpy(void *dst, const void *src, unsigned int n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, unsigned int n)
{
	u8 *d = dst;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

static u32 str_len(const char *s)
{
	u32 n = 0;
	while (s[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Buffered standard output. */
static char out_buf[1 << 16];
static u32 out_len;

static void flush(void)
{
	u32 done = 0;
	while (done < out_len) {
		long n = sys3(NR_write, 1, out_buf + done, out_len - done);
		if (n <= 0)
			sys3(NR_exit_group, 2, 0, 0);
		done += (u32)n;
	}
	out_len = 0;
}

static void put_char(char c)
{
	if (out_len == sizeof(out_buf))
		flush();
	out_buf[out_len++] = c;
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

/* v in decimal, by long division in 16-bit digits (no 64-bit division). */
static void put_u64(u64 v)
{
	char digits[24];
	int n = 0;
	u32 hi = (u32)(v >> 32), lo = (u32)v;
	do {
		u32 r = hi % 10, t;
		hi /= 10;
		t = (r << 16) | (lo >> 16);
		u32 q1 = t / 10;
		r = t % 10;
		t = (r << 16) | (lo & 0xffff);
		u32 q0 = t / 10;
		r = t % 10;
		lo = (q1 << 16) | q0;
		digits[n++] = (char)('0' + r);
	} while (hi || lo);
	while (n)
		put_char(digits[--n]);
}

static void put_s64(s64 v)
{
	if (v < 0) {
		put_char('-');
		put_u64(-(u64)v);
	} else {
		put_u64((u64)v);
	}
}

/* Bytes outside 0x21..0x7e and the backslash as \xNN, as vmtools prints them. */
static void put_escaped(const char *s, u32 len)
{
	static const char hex[] = "0123456789abcdef";
	for (u32 i = 0; i < len; i++) {
		u8 c = (u8)s[i];
		if (c < 0x21 || c > 0x7e || c == '\\') {
			put_str("\\x");
			put_char(hex[c >> 4]);
			put_char(hex[c & 15]);
		} else {
			put_char((char)c);
		}
	}
}

static void put_errno(long err)
{
	put_str("errno ");
	put_u64((u64)-err);
}

/*
 * A bump allocator: a directory's listing lives from its read until its
 * subdirectories are done, so memory is released in stack order.
 */
static u8 arena[64 << 20];
static u32 arena_used;

static void *alloc(u32 n)
{
	n = (n + 7) & ~7u;
	if (n > sizeof(arena) - arena_used) {
		flush();
		put_str("dirents32: out of memory\n");
		flush();
		sys3(NR_exit_group, 2, 0, 0);
	}
	void *p = arena + arena_used;
	arena_used += n;
	return p;
}

struct ent {
	s64 off;
	u64 ino;
	u8 type;
	u16 len;
	const char *name;
};

struct list {
	struct ent *e;
	u32 n;
};

#define MAX_ENTS (1u << 20)

static int bad;

static void error_line(const char *rel, const char *what, long err)
{
	put_str("ERROR ");
	put_escaped(rel, str_len(rel));
	put_char(' ');
	put_str(what);
	put_char(' ');
	put_errno(err);
	put_char('\n');
	bad = 1;
}

static u8 dent_buf[32768] __attribute__((aligned(8)));

/*
 * getdents64 with a bufsize buffer until 0 or limit entries. The records are
 * kept as read, one after the other in the arena (nothing else is allocated
 * meanwhile), then indexed by an array of entries pointing into them.
 * 0, a negative errno, or 1 when over the limit.
 */
static long read_list(int fd, u32 bufsize, struct list *l, u32 limit)
{
	u8 *recs = arena + arena_used;
	u32 total = 0, n = 0;
	long ret;
	for (;;) {
		ret = sys3(NR_getdents64, fd, dent_buf, bufsize);
		if (ret <= 0)
			break;
		memcpy(alloc((u32)ret), dent_buf, (u32)ret);
		total += (u32)ret;
		for (long pos = 0; pos < ret; n++) {
			u16 reclen;
			memcpy(&reclen, dent_buf + pos + 16, 2);
			pos += reclen;
		}
		if (n > limit) {
			ret = 1;
			break;
		}
	}
	l->e = alloc(n * sizeof(*l->e));
	l->n = 0;
	for (u32 pos = 0; pos < total && l->n < n;) {
		const u8 *rec = recs + pos;
		u16 reclen;
		memcpy(&reclen, rec + 16, 2);
		struct ent *e = &l->e[l->n++];
		memcpy(&e->off, rec + 8, 8);
		memcpy(&e->ino, rec, 8);
		e->type = rec[18];
		e->name = (const char *)rec + 19;
		e->len = (u16)str_len(e->name);
		pos += reclen;
	}
	return ret;
}

static void put_ent(const struct list *l, u32 i)
{
	if (i >= l->n) {
		put_str("end");
		return;
	}
	put_s64(l->e[i].off);
	put_char(' ');
	put_u64(l->e[i].type);
	put_char(' ');
	put_u64(l->e[i].ino);
	put_char(' ');
	put_escaped(l->e[i].name, l->e[i].len);
}

static int ent_eq(const struct ent *a, const struct ent *b)
{
	return a->off == b->off && a->ino == b->ino && a->type == b->type &&
	       a->len == b->len && str_eq(a->name, b->name);
}

/* Reads fd to the end with bufsize and compares with want[from..]. */
static void check_read(int fd, const char *rel, const char *check, s64 start, u32 bufsize,
		       const struct list *want, u32 from)
{
	u32 mark = arena_used;
	struct list got;
	long e = read_list(fd, bufsize, &got, want->n - from + 1);
	if (e < 0) {
		error_line(rel, "getdents", e);
	} else {
		for (u32 i = 0;; i++) {
			int g = i < got.n, w = from + i < want->n;
			if (!g && !w)
				break;
			if (g && w && ent_eq(&got.e[i], &want->e[from + i]))
				continue;
			put_str("MISMATCH ");
			put_str(check);
			put_char(' ');
			put_escaped(rel, str_len(rel));
			if (start >= 0) {
				put_str(" from ");
				put_s64(start);
			}
			put_str(" at entry ");
			put_u64(i);
			put_str(": got ");
			put_ent(&got, i);
			put_str(" want ");
			put_ent(want, from + i);
			put_char('\n');
			bad = 1;
			break;
		}
	}
	arena_used = mark;
}

static long llseek(int fd, s64 pos, int whence, s64 *result)
{
	return sys5(NR_llseek, fd, (long)(u32)((u64)pos >> 32), (long)(u32)pos, (long)result,
		    whence);
}

static int check_seek(int fd, const char *rel, s64 pos)
{
	s64 r = -1;
	long e = llseek(fd, pos, SEEK_SET, &r);
	if (!e && r == pos)
		return 0;
	put_str("MISMATCH seek ");
	put_escaped(rel, str_len(rel));
	put_str(" lseek ");
	put_s64(pos);
	if (e) {
		put_char(' ');
		put_errno(e);
	} else {
		put_str(" returned ");
		put_s64(r);
	}
	put_char('\n');
	bad = 1;
	return -1;
}

static char path[8192];

/* ioctl(fd, cmd) on two 0xff-filled words: "a/b" as left, or "errno N". */
static void put_ioctl(int fd, u32 cmd)
{
	u32 v[2] = {0xffffffffu, 0xffffffffu};
	long e = sys3(NR_ioctl, fd, cmd, v);
	put_char(' ');
	if (e) {
		put_errno(e);
		return;
	}
	put_u64(v[0]);
	put_char('/');
	put_u64(v[1]);
}

/* The compat ioctls ext4 answers (see the top of the file). */
static void put_ioctls(int fd, int root)
{
	put_char('V');
	put_ioctl(fd, 0x80046603u);	/* EXT4_IOC32_GETVERSION */
	put_ioctl(fd, 0x80047601u);	/* FS_IOC32_GETVERSION */
	put_ioctl(fd, 0x80086603u);	/* EXT4_IOC_GETVERSION */
	put_char('\n');
	if (!root)
		return;
	static u8 label[256];
	memset(label, 0xff, sizeof(label));
	long e = sys3(NR_ioctl, fd, 0x81009431u, label);	/* FS_IOC_GETFSLABEL */
	put_str("L ");
	if (e)
		put_errno(e);
	else
		put_escaped((const char *)label, 20);
	put_char('\n');
	put_char('S');
	put_ioctl(fd, 0x40046604u);	/* EXT4_IOC32_SETVERSION */
	put_ioctl(fd, 0x40047602u);	/* FS_IOC32_SETVERSION */
	memset(label, 0, sizeof(label));
	memcpy(label, "new-label", 9);
	e = sys3(NR_ioctl, fd, 0x41009432u, label);	/* FS_IOC_SETFSLABEL */
	put_char(' ');
	if (e)
		put_errno(e);
	else
		put_str("OK");
	put_char('\n');
}

static void list_dir(int fd, u32 rel_len)
{
	const char *rel = rel_len ? path : ".";
	u32 mark = arena_used;
	struct list l;
	put_str("D ");
	put_escaped(rel, str_len(rel));
	put_char('\n');
	long e = read_list(fd, sizeof(dent_buf), &l, MAX_ENTS);
	for (u32 i = 0; i < l.n; i++) {
		put_ent(&l, i);
		put_char('\n');
	}
	if (e) {
		if (e < 0)
			error_line(rel, "getdents", e);
		else
			error_line(rel, "getdents-endless", 0);
		arena_used = mark;
		return;
	}
	s64 end = -1;
	e = llseek(fd, 0, SEEK_END, &end);
	if (e) {
		error_line(rel, "lseek-end", e);
	} else {
		put_str("E ");
		put_s64(end);
		put_char('\n');
	}
	put_ioctls(fd, rel_len == 0);

	/* Resumed listings: 300-byte buffer, then from the middle cookie, then 0. */
	int rfd = (int)sys3(NR_openat, fd, ".", DIR_FLAGS);
	if (rfd < 0) {
		error_line(rel, "open", rfd);
	} else {
		check_read(rfd, rel, "small-buffer", -1, 300, &l, 0);
		sys3(NR_close, rfd, 0, 0);
	}
	if (l.n >= 3) {
		u32 k = l.n / 2;
		s64 pos = l.e[k - 1].off;
		rfd = (int)sys3(NR_openat, fd, ".", DIR_FLAGS);
		if (rfd < 0) {
			error_line(rel, "open", rfd);
		} else {
			if (!check_seek(rfd, rel, pos))
				check_read(rfd, rel, "seek", pos, sizeof(dent_buf), &l, k);
			if (!check_seek(rfd, rel, 0))
				check_read(rfd, rel, "seek", 0, sizeof(dent_buf), &l, 0);
			sys3(NR_close, rfd, 0, 0);
		}
	}

	for (u32 i = 0; i < l.n; i++) {
		const struct ent *c = &l.e[i];
		if (str_eq(c->name, ".") || str_eq(c->name, ".."))
			continue;
		if (c->type != DT_DIR && c->type != DT_UNKNOWN)
			continue;
		if (rel_len + 1 + c->len + 1 > sizeof(path)) {
			error_line(rel, "path-too-long", 0);
			continue;
		}
		u32 child_len = rel_len;
		if (child_len)
			path[child_len++] = '/';
		memcpy(path + child_len, c->name, c->len + 1u);
		child_len += c->len;
		int cfd = (int)sys3(NR_openat, fd, c->name, DIR_FLAGS);
		/* DT_UNKNOWN: ENOTDIR or ELOOP (symlink) for a non-directory. */
		if (cfd >= 0) {
			list_dir(cfd, child_len);
			sys3(NR_close, cfd, 0, 0);
		} else if (c->type == DT_DIR || (cfd != -20 && cfd != -40)) {
			error_line(path, "open", cfd);
		}
		path[rel_len] = 0;
	}
	arena_used = mark;
}

__attribute__((used, noreturn)) void start_c(long *sp);
void start_c(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	if (argc != 2) {
		put_str("usage: dirents32 ROOT\n");
		flush();
		sys3(NR_exit_group, 2, 0, 0);
	}
	int fd = (int)sys3(NR_openat, AT_FDCWD, argv[1], DIR_FLAGS);
	if (fd < 0) {
		error_line(argv[1], "open", fd);
	} else {
		list_dir(fd, 0);
		sys3(NR_close, fd, 0, 0);
	}
	flush();
	sys3(NR_exit_group, bad, 0, 0);
	__builtin_unreachable();
}

/* The kernel starts us with argc at (%esp); keep the stack 16-byte aligned for the call. */
asm(".globl _start\n"
    "_start:\n"
    "	xor %ebp, %ebp\n"
    "	mov %esp, %eax\n"
    "	and $-16, %esp\n"
    "	sub $12, %esp\n"
    "	push %eax\n"
    "	call start_c\n"
    "	hlt\n");
