// SPDX-License-Identifier: GPL-2.0
/*
 * Small helpers for VM tests, built on the host by scripts/vm: under TCG
 * every process start costs about a second and python's several, so tests
 * call these instead of loops of shell tools or python.
 *
 *   vmtools mount FSTYPE DEV DIR FLAGS [DATA]  mount(2); prints OK or the errno name
 *   vmtools walk DIR                            read everything below DIR (stat, file
 *                                               contents, link targets, xattrs, entries);
 *                                               prints "<objects> <errors>"
 *   vmtools probe OP PATH [NAME]               one access, prints OK or the errno name:
 *                                               stat (lstat), read (the whole file),
 *                                               list (every entry), xattr (lgetxattr
 *                                               NAME), link (readlink), list-flags
 *                                               (list twice, then print "OK flags=0x.."
 *                                               from FS_IOC_GETFLAGS)
 *   vmtools patch BASE PLAN INDEX OUT           copy BASE to OUT with the edits of line
 *                                               INDEX of PLAN ("off:op:val ..." per line,
 *                                               op x = xor, s = set)
 *   vmtools fuzz BASE PLAN REFFS FSTYPE DIR WORKFILE
 *                                               for every line of PLAN: write BASE with
 *                                               its edits to WORKFILE, attach a loop
 *                                               device, mount it read-only on DIR with
 *                                               REFFS (the reference driver; "-" for
 *                                               none), walk it, unmount, then the same
 *                                               with FSTYPE, whose walk fails every path
 *                                               REFFS refused (lstat failed) that FSTYPE
 *                                               serves; prints "<images> <refused>
 *                                               <mounted> <errors> <ref-refused>
 *                                               <served-refused>" for FSTYPE, naming each
 *                                               served-refused path on stderr; exits 1 if
 *                                               an image took over IMAGE_SECONDS
 *   vmtools mmapwrite FILE OFFSET               stores one byte 'M' at OFFSET of FILE
 *                                               through a shared mapping (OFFSET taken
 *                                               modulo the size; nothing for an empty
 *                                               file), then unmaps: a write fault
 *   vmtools shutdown DIR FLAG                   EXT4_IOC_SHUTDOWN (FS_IOC_SHUTDOWN) on
 *                                               DIR with FLAG default, logflush or
 *                                               nologflush; prints OK or the errno name
 *   vmtools dirents ROOT                        list every directory below ROOT (same
 *                                               mount, no symlinks, subdirectories in
 *                                               getdents order) as the driver returns it:
 *                                               "D <path>", then per entry
 *                                               "<d_off> <d_type> <d_ino> <name>" (path
 *                                               and name with bytes outside 0x21..0x7e
 *                                               and '\' as \xNN), so two drivers' order
 *                                               and cookies can be diffed; checks each
 *                                               directory lists the same with a 300-byte
 *                                               buffer and after lseek to a middle
 *                                               entry's cookie and back to 0 ("MISMATCH
 *                                               ..." lines, "ERROR <path> <op> <errno>"
 *                                               for failed calls; exits 1 on either)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EIO: return "EIO";
	case ENXIO: return "ENXIO"; case ENOMEM: return "ENOMEM"; case EACCES: return "EACCES";
	case EBUSY: return "EBUSY"; case ENODEV: return "ENODEV"; case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL"; case EFBIG: return "EFBIG"; case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS"; case ERANGE: return "ERANGE"; case ENODATA: return "ENODATA";
	case ENAMETOOLONG: return "ENAMETOOLONG"; case EOPNOTSUPP: return "EOPNOTSUPP";
	case EUCLEAN: return "EUCLEAN"; case EBADMSG: return "EBADMSG"; case ENOTBLK: return "ENOTBLK";
	case ESTALE: return "ESTALE"; case ELOOP: return "ELOOP";
	}
	static char buf[32];
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static long objects, errors;

/*
 * Comparison of two drivers' walks of one image. The reference driver's
 * walk records every path whose lstat failed, with the errno; the walk of
 * the driver under test then reports each of those it serves: an inode the
 * reference refuses as damaged must not be handed out.
 */
enum walk_mode { WALK_PLAIN, WALK_RECORD, WALK_CHECK };
static enum walk_mode walk_mode;
static size_t walk_root_len;
struct refusal {
	char *path;
	int err;
};
static struct refusal *refusals;
static long n_refusals, cap_refusals, served_refused;
static const char *walk_what; /* names the image in reports */

static void record_refusal(const char *rel, int err)
{
	if (n_refusals == cap_refusals) {
		cap_refusals = cap_refusals ? 2 * cap_refusals : 64;
		refusals = realloc(refusals, cap_refusals * sizeof(*refusals));
		if (!refusals)
			exit(2);
	}
	refusals[n_refusals].path = strdup(rel);
	refusals[n_refusals++].err = err;
}

static void check_refusal(const char *rel)
{
	for (long i = 0; i < n_refusals; i++)
		if (!strcmp(refusals[i].path, rel)) {
			served_refused++;
			fprintf(stderr, "%s: %s: the reference driver refuses it (%s), the driver under test serves it\n",
				walk_what, *rel ? rel : "/", errname(refusals[i].err));
			return;
		}
}

static void clear_refusals(void)
{
	for (long i = 0; i < n_refusals; i++)
		free(refusals[i].path);
	n_refusals = 0;
}

static void walk(const char *path)
{
	struct stat st;
	static char buf[1 << 16];
	const char *rel = strlen(path) >= walk_root_len ? path + walk_root_len : path;

	objects++;
	if (lstat(path, &st)) {
		if (walk_mode == WALK_RECORD)
			record_refusal(rel, errno);
		errors++;
		return;
	}
	if (walk_mode == WALK_CHECK)
		check_refusal(rel);
	ssize_t n = llistxattr(path, buf, sizeof(buf));
	if (n < 0) {
		errors++;
	} else {
		static char val[1 << 16];
		for (char *p = buf; p < buf + n; p += strlen(p) + 1)
			if (lgetxattr(path, p, val, sizeof(val)) < 0)
				errors++;
	}
	if (S_ISLNK(st.st_mode)) {
		if (readlink(path, buf, sizeof(buf)) < 0)
			errors++;
	} else if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			errors++;
			return;
		}
		/*
		 * Read the start, then hop through the data segments: a corrupt
		 * i_size can make a file terabytes long, and reading its holes
		 * would take longer than any test may.
		 */
		off_t pos = 0;
		for (int seg = 0; seg < 64 && pos < st.st_size; seg++) {
			off_t d = lseek(fd, pos, SEEK_DATA);
			if (d < 0) {
				if (errno != ENXIO)
					errors++;
				break;
			}
			if (pread(fd, buf, sizeof(buf), d) < 0) {
				errors++;
				break;
			}
			off_t h = lseek(fd, d, SEEK_HOLE);
			if (h < 0) {
				errors++;
				break;
			}
			pos = h > d + (off_t)sizeof(buf) ? h : d + (off_t)sizeof(buf);
		}
		close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d) {
			errors++;
			return;
		}
		struct dirent *de;
		errno = 0;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char *child;
			if (asprintf(&child, "%s/%s", path, de->d_name) < 0)
				exit(2);
			walk(child);
			free(child);
			errno = 0;
		}
		if (errno)
			errors++;
		closedir(d);
	}
}

/* Applies one plan line to data (in place). */
static int apply_line(unsigned char *data, long size, char *line)
{
	for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
		long off;
		char op;
		int val;
		if (sscanf(tok, "%ld:%c:%d", &off, &op, &val) != 3 || off < 0 || off >= size)
			return fprintf(stderr, "bad edit %s\n", tok), -1;
		data[off] = op == 'x' ? data[off] ^ val : val;
	}
	return 0;
}

static unsigned char *slurp(const char *path, long *size)
{
	FILE *in = fopen(path, "rb");
	if (!in)
		return NULL;
	fseek(in, 0, SEEK_END);
	*size = ftell(in);
	rewind(in);
	unsigned char *data = malloc(*size);
	if (data && fread(data, 1, *size, in) != (size_t)*size) {
		free(data);
		data = NULL;
	}
	fclose(in);
	return data;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * One image may take this long (mount, walk, unmount) under TCG on the debug
 * kernel; typical is under a second. A slower one is reported with its plan
 * line and fails the run: a corrupt image must not make an access crawl.
 */
#define IMAGE_SECONDS 60.0

/*
 * One image under one driver: write it to work, attach a loop device, mount
 * read-only on dir, walk it in the given mode, unmount, detach. Returns 1 if
 * it mounted, 0 if the mount was refused, -1 on a harness failure.
 */
static int one_image(const unsigned char *data, long size, const char *fstype, const char *dir,
		     const char *work, enum walk_mode mode)
{
	int wfd = open(work, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (wfd < 0 || write(wfd, data, size) != size)
		return perror("fuzz: write"), -1;
	int ctl = open("/dev/loop-control", O_RDWR);
	int n = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		return perror("fuzz: loop-control"), -1;
	close(ctl);
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	int lfd = open(dev, O_RDWR);
	if (lfd < 0 || ioctl(lfd, LOOP_SET_FD, wfd) < 0)
		return perror("fuzz: LOOP_SET_FD"), -1;
	int mounted = 0;
	if (mount(dev, dir, fstype, MS_RDONLY, NULL) == 0) {
		mounted = 1;
		walk_mode = mode;
		walk_root_len = strlen(dir);
		walk(dir);
		walk_mode = WALK_PLAIN;
		if (umount(dir))
			return fprintf(stderr, "%s: umount failed\n", walk_what), -1;
	}
	ioctl(lfd, LOOP_CLR_FD, 0);
	close(lfd);
	close(wfd);
	return mounted;
}

static int fuzz(const char *base, const char *plan, const char *reffs, const char *fstype,
		const char *dir, const char *work)
{
	long size;
	unsigned char *orig = slurp(base, &size), *data = malloc(size);
	FILE *pl = fopen(plan, "r");
	if (!orig || !data || !pl)
		return perror("fuzz: open"), 2;
	int compare = strcmp(reffs, "-") != 0;
	long images = 0, refused = 0, mounted = 0, slow = 0, ref_refused = 0;
	char *line = NULL, what[256];
	size_t cap = 0;
	while (getline(&line, &cap, pl) > 0) {
		double t0 = now();
		snprintf(what, sizeof(what), "%s: image %ld", plan, images);
		walk_what = what;
		if (getenv("VMTOOLS_VERBOSE"))
			fprintf(stderr, "%s: %s", what, line);
		memcpy(data, orig, size);
		if (apply_line(data, size, line))
			return 2;
		images++;
		if (compare) {
			/* The reference's errors are not this driver's: keep them apart. */
			long e = errors, o = objects;
			if (one_image(data, size, reffs, dir, work, WALK_RECORD) < 0)
				return 2;
			errors = e, objects = o;
			ref_refused += n_refusals;
		}
		int m = one_image(data, size, fstype, dir, work, compare ? WALK_CHECK : WALK_PLAIN);
		if (m < 0)
			return 2;
		mounted += m;
		refused += !m;
		clear_refusals();
		double t = now() - t0;
		if (t > IMAGE_SECONDS / 10)
			fprintf(stderr, "%s (plan line %ld) took %.1f s\n", what, images, t);
		if (t > IMAGE_SECONDS)
			slow++;
	}
	printf("%ld %ld %ld %ld %ld %ld\n", images, refused, mounted, errors, ref_refused,
	       served_refused);
	return slow ? 1 : 0;
}

static int patch(const char *base, const char *plan, long index, const char *out)
{
	long size;
	unsigned char *data = slurp(base, &size);
	FILE *pl = fopen(plan, "r");
	if (!data || !pl)
		return perror("patch: open"), 2;
	char *line = NULL;
	size_t cap = 0;
	for (long i = 0; i <= index; i++)
		if (getline(&line, &cap, pl) < 0)
			return fprintf(stderr, "plan has no line %ld\n", index), 2;
	if (apply_line(data, size, line))
		return 2;
	FILE *o = fopen(out, "wb");
	if (!o || fwrite(data, 1, size, o) != (size_t)size || fclose(o))
		return perror("write"), 2;
	return 0;
}

/* What list-flags read: the directory's FS_IOC_GETFLAGS after listing it. */
static long probe_flags = -1;

/* Lists the directory PATH to its end; 0 or the errno it failed with. */
static int list_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return errno;
	errno = 0;
	while (readdir(d))
		;
	int e = errno;
	closedir(d);
	return e;
}

/* One access to PATH; 0 or the errno it failed with. */
static int probe(const char *op, const char *path, const char *name)
{
	static char buf[1 << 16];
	struct stat st;
	if (!strcmp(op, "list-flags")) {
		/* Listed twice (a driver may change its view of the directory
		 * after the first listing), then its inode flags. */
		int e = list_dir(path);
		if (!e)
			e = list_dir(path);
		if (e)
			return e;
		int fd = open(path, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return errno;
		int flags = 0;
		e = ioctl(fd, FS_IOC_GETFLAGS, &flags) ? errno : 0;
		close(fd);
		probe_flags = flags;
		return e;
	}
	if (!strcmp(op, "stat"))
		return lstat(path, &st) ? errno : 0;
	if (!strcmp(op, "read")) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return errno;
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		int e = n < 0 ? errno : 0;
		close(fd);
		return e;
	}
	if (!strcmp(op, "list"))
		return list_dir(path);
	if (!strcmp(op, "xattr") && name)
		return lgetxattr(path, name, buf, sizeof(buf)) < 0 ? errno : 0;
	if (!strcmp(op, "link"))
		return readlink(path, buf, sizeof(buf)) < 0 ? errno : 0;
	fprintf(stderr, "probe: unknown op %s\n", op);
	exit(2);
}

/*
 * dirents: every directory's entries exactly as getdents64 returns them, for
 * comparing two drivers' listing order and positions (d_off cookies) with
 * diff, plus checks that a listing resumed from those cookies (small buffer,
 * lseek) gives the same sequence.
 */
struct ent {
	int64_t off;
	uint64_t ino;
	unsigned char type;
	char *name;
};

struct entlist {
	struct ent *e;
	size_t n, cap;
};

/* No test directory has this many entries: a longer listing is taken as endless. */
#define DIRENTS_MAX ((size_t)1 << 20)

static int dirents_bad;

static void entlist_free(struct entlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	l->e = NULL;
	l->n = l->cap = 0;
}

/* Bytes outside 0x21..0x7e and the backslash as \xNN. */
static void put_escaped(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
}

static void put_ent(const struct entlist *l, size_t i)
{
	if (i >= l->n) {
		fputs("end", stdout);
		return;
	}
	printf("%lld %u %llu ", (long long)l->e[i].off, l->e[i].type,
	       (unsigned long long)l->e[i].ino);
	put_escaped(l->e[i].name);
}

static void dirents_error(const char *rel, const char *op, const char *what)
{
	fputs("ERROR ", stdout);
	put_escaped(rel);
	printf(" %s %s\n", op, what);
	dirents_bad = 1;
}

/*
 * getdents64 on fd with a bufsize buffer until it returns 0 or out holds
 * limit entries. 0, or the errno of the failed call (-1: over the limit).
 */
static int read_dirents(int fd, size_t bufsize, struct entlist *out, size_t limit)
{
	static uint64_t buf[32768 / 8];
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, bufsize);
		if (got < 0)
			return errno;
		if (got == 0)
			return 0;
		for (long pos = 0; pos < got;) {
			const char *rec = (const char *)buf + pos;
			uint64_t ino;
			int64_t off;
			unsigned short reclen;
			memcpy(&ino, rec, 8);
			memcpy(&off, rec + 8, 8);
			memcpy(&reclen, rec + 16, 2);
			if (out->n >= limit)
				return -1;
			if (out->n == out->cap) {
				out->cap = out->cap ? 2 * out->cap : 64;
				out->e = realloc(out->e, out->cap * sizeof(*out->e));
				if (!out->e)
					exit(2);
			}
			struct ent *e = &out->e[out->n++];
			e->off = off;
			e->ino = ino;
			e->type = rec[18];
			e->name = strndup(rec + 19, reclen - 19);
			if (!e->name)
				exit(2);
			pos += reclen;
		}
	}
}

/* First i where got[i] != want[from + i] (SIZE_MAX if none, lengths included). */
static size_t first_diff(const struct entlist *got, const struct entlist *want, size_t from)
{
	for (size_t i = 0;; i++) {
		int g = i < got->n, w = from + i < want->n;
		if (!g && !w)
			return SIZE_MAX;
		if (!g || !w)
			return i;
		const struct ent *a = &got->e[i], *b = &want->e[from + i];
		if (a->off != b->off || a->ino != b->ino || a->type != b->type ||
		    strcmp(a->name, b->name))
			return i;
	}
}

/* Prints the rest of a MISMATCH line: " at entry I: got ... want ...". */
static void put_diff(const struct entlist *got, const struct entlist *want, size_t from,
		     size_t i)
{
	printf(" at entry %zu: got ", i);
	put_ent(got, i);
	fputs(" want ", stdout);
	put_ent(want, from + i);
	putchar('\n');
	dirents_bad = 1;
}

/*
 * Reads fd from its current position to the end with a bufsize buffer and
 * checks it gives want[from..]; a MISMATCH line "<check> <rel><how> at entry
 * I: got ... want ..." otherwise.
 */
static void check_read(int fd, const char *rel, const char *check, const char *how,
		       size_t bufsize, const struct entlist *want, size_t from)
{
	struct entlist got = {0};
	int e = read_dirents(fd, bufsize, &got, want->n - from + 1);
	if (e > 0) {
		dirents_error(rel, "getdents", errname(e));
	} else {
		size_t i = first_diff(&got, want, from);
		if (i != SIZE_MAX) {
			printf("MISMATCH %s ", check);
			put_escaped(rel);
			fputs(how, stdout);
			put_diff(&got, want, from, i);
		}
	}
	entlist_free(&got);
}

/* lseek(fd, pos, SEEK_SET); a MISMATCH seek line if it fails or lands elsewhere. */
static int check_lseek(int fd, const char *rel, int64_t pos)
{
	off_t r = lseek(fd, pos, SEEK_SET);
	if (r == pos)
		return 0;
	fputs("MISMATCH seek ", stdout);
	put_escaped(rel);
	if (r < 0)
		printf(" lseek %lld %s\n", (long long)pos, errname(errno));
	else
		printf(" lseek %lld returned %lld\n", (long long)pos, (long long)r);
	dirents_bad = 1;
	return -1;
}

/*
 * The listing l of the directory open as dirfd must come out the same through
 * fresh descriptors: read with a 300-byte buffer (a few entries per call, so
 * the driver resumes from its cookies), and, given 3 entries or more, read
 * from the cookie before the middle entry k (d_off of entry k-1 is where
 * entry k starts) to the end, then from 0 again.
 */
static void check_listings(int dirfd, const char *rel, const struct entlist *l)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0) {
		dirents_error(rel, "open", errname(errno));
		return;
	}
	check_read(fd, rel, "small-buffer", "", 300, l, 0);
	close(fd);
	if (l->n < 3)
		return;
	size_t k = l->n / 2;
	int64_t pos = l->e[k - 1].off;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0) {
		dirents_error(rel, "open", errname(errno));
		return;
	}
	char how[64];
	snprintf(how, sizeof(how), " from %lld", (long long)pos);
	if (!check_lseek(fd, rel, pos))
		check_read(fd, rel, "seek", how, 32768, l, k);
	if (!check_lseek(fd, rel, 0))
		check_read(fd, rel, "seek", " from 0", 32768, l, 0);
	close(fd);
}

/* Lists the directory open as fd (path rel below the root), then its subdirectories. */
static void dirents(int fd, const char *rel, dev_t dev)
{
	struct entlist l = {0};
	fputs("D ", stdout);
	put_escaped(rel);
	putchar('\n');
	int e = read_dirents(fd, 32768, &l, DIRENTS_MAX);
	for (size_t i = 0; i < l.n; i++) {
		put_ent(&l, i);
		putchar('\n');
	}
	if (e) {
		dirents_error(rel, "getdents", e > 0 ? errname(e) : "endless");
		entlist_free(&l);
		return;
	}
	check_listings(fd, rel, &l);
	for (size_t i = 0; i < l.n; i++) {
		const char *name = l.e[i].name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		char *child;
		if (asprintf(&child, "%s/%s", strcmp(rel, ".") ? rel : "", name) < 0)
			exit(2);
		const char *crel = child + !strcmp(rel, ".");
		struct stat st;
		if (l.e[i].type == DT_UNKNOWN) {
			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW)) {
				dirents_error(crel, "stat", errname(errno));
				goto next;
			}
			if (!S_ISDIR(st.st_mode))
				goto next;
		} else if (l.e[i].type != DT_DIR) {
			goto next;
		}
		int cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (cfd < 0) {
			dirents_error(crel, "open", errname(errno));
			goto next;
		}
		if (fstat(cfd, &st))
			dirents_error(crel, "stat", errname(errno));
		else if (st.st_dev == dev)	/* not a mount point */
			dirents(cfd, crel, dev);
		close(cfd);
next:
		free(child);
	}
	entlist_free(&l);
}

static int dirents_root(const char *root)
{
	struct stat st;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st)) {
		dirents_error(".", "open", errname(errno));
		return 1;
	}
	dirents(fd, ".", st.st_dev);
	close(fd);
	if (fflush(stdout))
		return 2;
	return dirents_bad;
}

/* EXT4_IOC_SHUTDOWN / FS_IOC_SHUTDOWN and its flags (linux/fs.h names). */
#define REXT4_IOC_SHUTDOWN _IOR('X', 125, uint32_t)

static int shutdown_fs(const char *dir, const char *flag)
{
	uint32_t f;
	if (!strcmp(flag, "default"))
		f = 0;
	else if (!strcmp(flag, "logflush"))
		f = 1;
	else if (!strcmp(flag, "nologflush"))
		f = 2;
	else
		return fprintf(stderr, "shutdown: unknown flag %s\n", flag), 2;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return perror("shutdown: open"), 2;
	int r = ioctl(fd, REXT4_IOC_SHUTDOWN, &f);
	puts(r ? errname(errno) : "OK");
	close(fd);
	return 0;
}

static int mmapwrite(const char *path, const char *offset)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		return perror("mmapwrite"), 2;
	if (st.st_size == 0)
		return close(fd), 0;
	char *m = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return perror("mmapwrite: mmap"), 2;
	m[strtoull(offset, NULL, 0) % st.st_size] = 'M';
	munmap(m, st.st_size);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "mount")) {
		int r = mount(argv[3], argv[4], argv[2], strtoul(argv[5], NULL, 0),
			      argc > 6 ? argv[6] : NULL);
		puts(r ? errname(errno) : "OK");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "walk")) {
		walk(argv[2]);
		printf("%ld %ld\n", objects, errors);
		return 0;
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "probe")) {
		int e = probe(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
		if (!e && probe_flags >= 0)
			printf("OK flags=0x%lx\n", probe_flags);
		else
			puts(e ? errname(e) : "OK");
		return 0;
	}
	if (argc == 8 && !strcmp(argv[1], "fuzz"))
		return fuzz(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
	if (argc == 6 && !strcmp(argv[1], "patch"))
		return patch(argv[2], argv[3], atol(argv[4]), argv[5]);
	if (argc == 4 && !strcmp(argv[1], "mmapwrite"))
		return mmapwrite(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "shutdown"))
		return shutdown_fs(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "dirents"))
		return dirents_root(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of vmtools.c\n");
	return 2;
}
