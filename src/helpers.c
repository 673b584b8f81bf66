// SPDX-License-Identifier: GPL-2.0
/*
 * Wrappers for static inline functions and macros (see helpers.h).
 */
#include <linux/blkdev.h>
#include <linux/buffer_head.h>
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/iomap.h>
#include <linux/kdev_t.h>
#include <linux/pagemap.h>
#include <linux/posix_acl.h>
#include <linux/sched/signal.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>

#include "helpers.h"

void rext4_fc_error(struct fs_context *fc, const char *msg)
{
	errorf(fc, "%s", msg);
}

bool rext4_fc_wants_rdonly(const struct fs_context *fc)
{
	return fc->sb_flags & SB_RDONLY;
}

static DEFINE_RATELIMIT_STATE(rext4_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

bool rext4_ratelimit(void)
{
	return __ratelimit(&rext4_rs);
}

bool rext4_should_stop(void)
{
	cond_resched();
	return fatal_signal_pending(current);
}

bool rext4_sb_rdonly(const struct super_block *sb)
{
	return sb_rdonly(sb);
}

u64 rext4_sb_bdev_bytes(struct super_block *sb)
{
	return bdev_nr_bytes(sb->s_bdev);
}

struct buffer_head *rext4_sb_bread(struct super_block *sb, u64 block)
{
	return sb_bread(sb, block);
}

void rext4_brelse(struct buffer_head *bh)
{
	brelse(bh);
}

bool rext4_sb_bdev_read_only(struct super_block *sb)
{
	return bdev_read_only(sb->s_bdev);
}

void rext4_lock_buffer(struct buffer_head *bh)
{
	lock_buffer(bh);
}

void rext4_unlock_buffer(struct buffer_head *bh)
{
	unlock_buffer(bh);
}

int rext4_sync_dirty_buffer_fua(struct buffer_head *bh)
{
	return __sync_dirty_buffer(bh, REQ_SYNC | REQ_FUA);
}

/* Set once, before the cache exists; read by the constructor. */
static size_t rext4_inode_off;

static void rext4_inode_ctor(void *obj)
{
	inode_init_once((struct inode *)((char *)obj + rext4_inode_off));
}

struct kmem_cache *rext4_inode_cache_create(const char *name, size_t obj_size,
					    size_t align, size_t inode_off)
{
	rext4_inode_off = inode_off;
	return kmem_cache_create(name, obj_size, align,
				 SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
				 rext4_inode_ctor);
}

void *rext4_inode_cache_alloc(struct kmem_cache *cache)
{
	return kmem_cache_alloc(cache, GFP_KERNEL);
}

void rext4_inode_cache_free(struct kmem_cache *cache, void *obj)
{
	kmem_cache_free(cache, obj);
}

void rext4_inode_cache_destroy(struct kmem_cache *cache)
{
	/* Inodes are freed after an RCU grace period (free_inode). */
	rcu_barrier();
	kmem_cache_destroy(cache);
}

bool rext4_inode_is_new(struct inode *inode)
{
	return inode_state_read_once(inode) & I_NEW;
}

void rext4_inode_set_cached_link(struct inode *inode, char *link, int len)
{
	inode_set_cached_link(inode, link, len);
}

loff_t rext4_i_size_read(const struct inode *inode)
{
	return i_size_read(inode);
}

void rext4_i_size_write(struct inode *inode, loff_t size)
{
	i_size_write(inode, size);
}

void rext4_i_uid_write(struct inode *inode, u32 uid)
{
	i_uid_write(inode, uid);
}

void rext4_i_gid_write(struct inode *inode, u32 gid)
{
	i_gid_write(inode, gid);
}

void rext4_inode_set_times(struct inode *inode, s64 atime, u32 atime_ns,
			   s64 mtime, u32 mtime_ns, s64 ctime, u32 ctime_ns)
{
	inode_set_atime(inode, atime, atime_ns);
	inode_set_mtime(inode, mtime, mtime_ns);
	inode_set_ctime(inode, ctime, ctime_ns);
}

void rext4_mapping_set_large_folios(struct inode *inode)
{
	mapping_set_large_folios(inode->i_mapping);
}

dev_t rext4_mkdev(u32 major, u32 minor)
{
	return MKDEV(major, minor);
}

const unsigned char *rext4_dentry_name(const struct dentry *dentry, u32 *len)
{
	*len = dentry->d_name.len;
	return dentry->d_name.name;
}

struct inode *rext4_file_inode(const struct file *file)
{
	return file_inode(file);
}

bool rext4_capable_sys_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

bool rext4_file_owner_or_capable(struct file *file)
{
	return inode_owner_or_capable(file_mnt_idmap(file), file_inode(file));
}

struct posix_acl *rext4_acl_alloc(unsigned int count)
{
	return posix_acl_alloc(count, GFP_KERNEL);
}

void rext4_acl_set(struct posix_acl *acl, unsigned int i, u16 tag, u16 perm, u32 id)
{
	struct posix_acl_entry *e = &acl->a_entries[i];

	e->e_tag = tag;
	e->e_perm = perm;
	if (tag == ACL_USER)
		e->e_uid = make_kuid(&init_user_ns, id);
	else if (tag == ACL_GROUP)
		e->e_gid = make_kgid(&init_user_ns, id);
}

void rext4_acl_release(struct posix_acl *acl)
{
	posix_acl_release(acl);
}

void rext4_sb_set_posixacl(struct super_block *sb)
{
	sb->s_flags |= SB_POSIXACL;
}

bool rext4_dir_emit(struct dir_context *ctx, const char *name, int len,
		    u64 ino, unsigned int type)
{
	return dir_emit(ctx, name, len, ino, type);
}

int rext4_file_open(struct inode *inode, struct file *file)
{
	int ret = generic_file_open(inode, file);

	if (!ret)
		file->f_mode |= FMODE_NOWAIT | FMODE_CAN_ODIRECT;
	return ret;
}

bool rext4_iocb_is_direct(const struct kiocb *iocb)
{
	return iocb->ki_flags & IOCB_DIRECT;
}

ssize_t rext4_dio_read_iter(struct kiocb *iocb, struct iov_iter *to,
			    const struct iomap_ops *ops)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (!inode_trylock_shared(inode))
			return -EAGAIN;
	} else {
		inode_lock_shared(inode);
	}
	ret = iomap_dio_rw(iocb, to, ops, NULL, 0, NULL, 0);
	inode_unlock_shared(inode);
	file_accessed(iocb->ki_filp);
	return ret;
}

void rext4_stat_dioalign(struct inode *inode, struct kstat *stat)
{
	struct block_device *bdev = inode->i_sb->s_bdev;

	stat->result_mask |= STATX_DIOALIGN;
	stat->dio_mem_align = bdev_dma_alignment(bdev) + 1;
	stat->dio_offset_align = bdev_logical_block_size(bdev);
}

bool rext4_dir_cookies_32bit(const struct file *file)
{
	/* ext4's hash2pos(): NFS says which; otherwise a compat syscall. */
	if (file->f_mode & FMODE_32BITHASH)
		return true;
	if (file->f_mode & FMODE_64BITHASH)
		return false;
#ifdef CONFIG_COMPAT
	return in_compat_syscall();
#else
	return BITS_PER_LONG == 32;
#endif
}

void *rext4_file_private(const struct file *file)
{
	return file->private_data;
}

void rext4_file_set_private(struct file *file, void *data)
{
	file->private_data = data;
}

void rext4_iomap_bio_read_folio(struct folio *folio, const struct iomap_ops *ops)
{
	iomap_bio_read_folio(folio, ops);
}

void rext4_iomap_bio_readahead(struct readahead_control *rac,
			       const struct iomap_ops *ops)
{
	iomap_bio_readahead(rac, ops);
}
