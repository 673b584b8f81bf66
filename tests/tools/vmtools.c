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
 *                                               NAME), link (readlink)
 *   vmtools patch BASE PLAN INDEX OUT           copy BASE to OUT with the edits of line
 *                                               INDEX of PLAN ("off:op:val ..." per line,
 *                                               op x = xor, s = set)
 *   vmtools fuzz BASE PLAN FSTYPE DIR WORKFILE  for every line of PLAN: write BASE with
 *                                               its edits to WORKFILE, attach a loop
 *                                               device, mount it read-only on DIR, walk
 *                                               it, unmount, detach; prints
 *                                               "<images> <refused> <mounted> <errors>";
 *                                               exits 1 if an image took over
 *                                               IMAGE_SECONDS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

static void walk(const char *path)
{
	struct stat st;
	static char buf[1 << 16];

	objects++;
	if (lstat(path, &st)) {
		errors++;
		return;
	}
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

static int fuzz(const char *base, const char *plan, const char *fstype, const char *dir,
		const char *work)
{
	long size;
	unsigned char *orig = slurp(base, &size), *data = malloc(size);
	FILE *pl = fopen(plan, "r");
	if (!orig || !data || !pl)
		return perror("fuzz: open"), 2;
	long images = 0, refused = 0, mounted = 0, slow = 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, pl) > 0) {
		double t0 = now();
		if (getenv("VMTOOLS_VERBOSE"))
			fprintf(stderr, "%s: image %ld: %s", plan, images, line);
		memcpy(data, orig, size);
		if (apply_line(data, size, line))
			return 2;
		int wfd = open(work, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (wfd < 0 || write(wfd, data, size) != size)
			return perror("fuzz: write"), 2;
		int ctl = open("/dev/loop-control", O_RDWR);
		int n = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return perror("fuzz: loop-control"), 2;
		close(ctl);
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		int lfd = open(dev, O_RDWR);
		if (lfd < 0 || ioctl(lfd, LOOP_SET_FD, wfd) < 0)
			return perror("fuzz: LOOP_SET_FD"), 2;
		images++;
		if (mount(dev, dir, fstype, MS_RDONLY, NULL) == 0) {
			mounted++;
			walk(dir);
			if (umount(dir))
				return fprintf(stderr, "umount failed after image %ld\n", images - 1), 1;
		} else {
			refused++;
		}
		ioctl(lfd, LOOP_CLR_FD, 0);
		close(lfd);
		close(wfd);
		double t = now() - t0;
		if (t > IMAGE_SECONDS / 10)
			fprintf(stderr, "%s: image %ld (plan line %ld) took %.1f s\n", plan,
				images - 1, images, t);
		if (t > IMAGE_SECONDS)
			slow++;
	}
	printf("%ld %ld %ld %ld\n", images, refused, mounted, errors);
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

/* One access to PATH; 0 or the errno it failed with. */
static int probe(const char *op, const char *path, const char *name)
{
	static char buf[1 << 16];
	struct stat st;
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
	if (!strcmp(op, "list")) {
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
	if (!strcmp(op, "xattr") && name)
		return lgetxattr(path, name, buf, sizeof(buf)) < 0 ? errno : 0;
	if (!strcmp(op, "link"))
		return readlink(path, buf, sizeof(buf)) < 0 ? errno : 0;
	fprintf(stderr, "probe: unknown op %s\n", op);
	exit(2);
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
		puts(e ? errname(e) : "OK");
		return 0;
	}
	if (argc == 7 && !strcmp(argv[1], "fuzz"))
		return fuzz(argv[2], argv[3], argv[4], argv[5], argv[6]);
	if (argc == 6 && !strcmp(argv[1], "patch"))
		return patch(argv[2], argv[3], atol(argv[4]), argv[5]);
	fprintf(stderr, "usage: see the comment at the top of vmtools.c\n");
	return 2;
}
