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
#include <linux/jbd2.h>
#include <linux/random.h>
#include <linux/timekeeping.h>
#include <linux/kdev_t.h>
#include <linux/pagemap.h>
#include <linux/posix_acl.h>
#include <linux/sched/signal.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <linux/writeback.h>
#include <linux/mm.h>
#include <linux/bio.h>
#include <linux/list_sort.h>
#include <linux/sched/mm.h>

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

bool rext4_may_use_reserve(void)
{
	return uid_eq(current_fsuid(), GLOBAL_ROOT_UID) || capable(CAP_SYS_RESOURCE);
}

int rext4_bdev_freeze(struct super_block *sb)
{
	return bdev_freeze(sb->s_bdev);
}

void rext4_bdev_thaw(struct super_block *sb)
{
	bdev_thaw(sb->s_bdev);
}

void rext4_set_delayed_kfree(struct delayed_call *done, void *p)
{
	set_delayed_call(done, kfree_link, p);
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

/* The write path (buffers, jbd2 handles, new inodes). */

struct buffer_head *rext4_sb_getblk(struct super_block *sb, u64 block)
{
	return sb_getblk(sb, block);
}

void rext4_buffer_zero_uptodate(struct buffer_head *bh)
{
	memset(bh->b_data, 0, bh->b_size);
	set_buffer_uptodate(bh);
}

/*
 * Every handle may revoke a few freed metadata blocks; rext4_forget_block()
 * extends the handle when it runs out (a directory freed at eviction).
 */
#define REXT4_HANDLE_REVOKES 64

handle_t *rext4_journal_start(journal_t *journal, int credits)
{
	return jbd2__journal_start(journal, credits, 0, REXT4_HANDLE_REVOKES,
				   GFP_NOFS, 0, 0);
}

/*
 * ext4_forget() for a metadata block being freed: with a journal, a revoke
 * record (so replay cannot write the old contents over the block's next
 * owner) and jbd2_journal_forget() of a cached buffer (so neither the
 * running transaction nor checkpointing writes it back); without one, the
 * cached buffer is dropped unwritten. Consumes the buffer reference.
 */
int rext4_forget_block(struct super_block *sb, handle_t *handle, u64 block)
{
	struct buffer_head *bh = sb_find_get_block_nonatomic(sb, block);
	int err;

	if (!handle) {
		if (bh) {
			clear_buffer_dirty(bh);
			wait_on_buffer(bh);
			__bforget(bh);
		}
		return 0;
	}
	if (handle->h_revoke_credits <= 0) {
		err = jbd2_journal_extend(handle, 0, REXT4_HANDLE_REVOKES);
		if (err) {
			brelse(bh);
			return err < 0 ? err : -ENOSPC;
		}
	}
	return jbd2_journal_revoke(handle, block, bh);
}

u32 rext4_handle_tid(const handle_t *handle)
{
	return handle->h_transaction->t_tid;
}

void rext4_now(s64 *sec, u32 *nsec)
{
	struct timespec64 ts;

	ktime_get_coarse_real_ts64(&ts);
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
}

u32 rext4_random_u32(void)
{
	return get_random_u32();
}

/*
 * inode_init_owner() for an inode that does not exist yet: the caller's
 * fsuid, and the directory's group and set-group-ID bit where it has one.
 */
void rext4_new_owner(struct mnt_idmap *idmap, const struct inode *dir,
		     umode_t *mode, u32 *uid, u32 *gid)
{
	kuid_t fsuid = mapped_fsuid(idmap, i_user_ns(dir));
	kgid_t fsgid;

	if (dir->i_mode & S_ISGID) {
		fsgid = dir->i_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	} else {
		fsgid = mapped_fsgid(idmap, i_user_ns(dir));
	}
	*uid = from_kuid(&init_user_ns, fsuid);
	*gid = from_kgid(&init_user_ns, fsgid);
}

/*
 * posix_acl_create(): the mode with the umask or the directory's default
 * ACL applied, and the ACLs the new inode gets (references the caller
 * releases).
 */
int rext4_acl_create(struct inode *dir, umode_t *mode, struct posix_acl **dacl,
		     struct posix_acl **acl)
{
	*dacl = NULL;
	*acl = NULL;
	return posix_acl_create(dir, mode, dacl, acl);
}

unsigned int rext4_acl_count(const struct posix_acl *acl)
{
	return acl->a_count;
}

/* Entry i, its id in the initial user namespace (ext4_acl_to_disk()). */
void rext4_acl_entry(const struct posix_acl *acl, unsigned int i, u16 *tag, u16 *perm, u32 *id)
{
	const struct posix_acl_entry *e = &acl->a_entries[i];

	*tag = e->e_tag;
	*perm = e->e_perm;
	*id = 0;
	if (e->e_tag == ACL_USER)
		*id = from_kuid(&init_user_ns, e->e_uid);
	else if (e->e_tag == ACL_GROUP)
		*id = from_kgid(&init_user_ns, e->e_gid);
}

void rext4_inode_get_times(const struct inode *inode, s64 *t, u32 *ns)
{
	struct timespec64 a = inode_get_atime(inode);
	struct timespec64 m = inode_get_mtime(inode);
	struct timespec64 c = inode_get_ctime(inode);

	t[0] = a.tv_sec; ns[0] = a.tv_nsec;
	t[1] = m.tv_sec; ns[1] = m.tv_nsec;
	t[2] = c.tv_sec; ns[2] = c.tv_nsec;
}

u32 rext4_i_uid_read(const struct inode *inode)
{
	return i_uid_read(inode);
}

u32 rext4_i_gid_read(const struct inode *inode)
{
	return i_gid_read(inode);
}

void rext4_truncate_pages_final(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
}

unsigned int rext4_inode_nlink(const struct inode *inode)
{
	return inode->i_nlink;
}

struct inode *rext4_dentry_inode(const struct dentry *dentry)
{
	return d_inode(dentry);
}

void rext4_sb_force_rdonly(struct super_block *sb)
{
	/* As ext4_handle_error(): make earlier stores visible first. */
	smp_wmb();
	sb->s_flags |= SB_RDONLY;
}

void __noreturn rext4_panic(const char *dev)
{
	panic("rext4 (%s): panic forced after error\n", dev);
}

int rext4_sync_bdev(struct super_block *sb)
{
	int err = sync_blockdev(sb->s_bdev);

	return err ? err : blkdev_issue_flush(sb->s_bdev);
}

int rext4_journal_max_credits(journal_t *journal)
{
	return journal->j_max_transaction_buffers -
	       journal->j_transaction_overhead_buffers;
}

int rext4_flush_bdev(struct super_block *sb)
{
	return blkdev_issue_flush(sb->s_bdev);
}

bool rext4_tid_committed(journal_t *journal, u32 tid)
{
	return tid_geq(READ_ONCE(journal->j_commit_sequence), tid);
}

bool rext4_in_handle(void)
{
	return current->journal_info != NULL;
}

void rext4_sb_start_intwrite(struct super_block *sb)
{
	sb_start_intwrite(sb);
}

void rext4_sb_end_intwrite(struct super_block *sb)
{
	sb_end_intwrite(sb);
}

bool rext4_fc_sb_rdonly(const struct fs_context *fc)
{
	return sb_rdonly(fc->root->d_sb);
}

bool rext4_fc_forced(const struct fs_context *fc)
{
	return fc->sb_flags & SB_FORCE;
}

bool rext4_fc_changes_rdonly(const struct fs_context *fc)
{
	return fc->sb_flags_mask & SB_RDONLY;
}

/* Regular-file writes through iomap. */

/*
 * Bytes past EOF in the cached EOF folio are no file data, but a store
 * through a shared mapping may have left some there (the fault dirtied the
 * whole folio; page_mkwrite gave blocks only up to EOF). When EOF moves
 * past them, from @old to @end, they must read as zeros, and
 * iomap_zero_range() skips holes, which the blocks there may be. A folio
 * that is not up to date was never mapped, so holds nothing to clear.
 */
static void rext4_zero_past_eof(struct inode *inode, loff_t old, loff_t end)
{
	struct folio *folio = filemap_lock_folio(inode->i_mapping, old >> PAGE_SHIFT);
	size_t from, to;

	if (IS_ERR(folio))
		return;
	from = offset_in_folio(folio, old);
	to = min_t(loff_t, folio_size(folio), end - folio_pos(folio));
	if (folio_test_uptodate(folio) && to > from)
		folio_zero_segment(folio, from, to);
	folio_unlock(folio);
	folio_put(folio);
}

ssize_t rext4_buffered_write_iter(struct kiocb *iocb, struct iov_iter *from,
				  const struct iomap_ops *ops,
				  const struct iomap_write_ops *wops)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	bool direct = iocb->ki_flags & IOCB_DIRECT;
	loff_t isize;
	ssize_t ret;

	if (iocb->ki_flags & IOCB_NOWAIT)
		return -EOPNOTSUPP;
	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	ret = file_modified(file);
	if (ret)
		goto out;
	/* What lies between the old EOF and the write reads as zeros. */
	isize = i_size_read(inode);
	if (iocb->ki_pos > isize) {
		rext4_zero_past_eof(inode, isize, iocb->ki_pos);
		ret = iomap_zero_range(inode, isize, iocb->ki_pos - isize, NULL,
				       ops, wops, NULL);
		if (ret)
			goto out;
	}
	iocb->ki_flags &= ~IOCB_DIRECT;
	ret = iomap_file_buffered_write(iocb, from, ops, wops, NULL);
	if (direct) {
		iocb->ki_flags |= IOCB_DIRECT;
		if (ret > 0)
			ret = direct_write_fallback(iocb, from, 0, ret);
	}
out:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

struct rext4_wbq {
	struct workqueue_struct *wq;
	spinlock_t lock;
	struct list_head list;
	struct work_struct work;
	int (*done)(struct inode *inode, loff_t pos, u64 size, bool unwritten,
		    int error);
};

/* By inode, then by file offset. */
static int rext4_ioend_cmp(void *priv, const struct list_head *a,
			   const struct list_head *b)
{
	const struct iomap_ioend *ia = list_entry(a, struct iomap_ioend, io_list);
	const struct iomap_ioend *ib = list_entry(b, struct iomap_ioend, io_list);

	if (ia->io_inode != ib->io_inode)
		return ia->io_inode < ib->io_inode ? -1 : 1;
	if (ia->io_offset != ib->io_offset)
		return ia->io_offset < ib->io_offset ? -1 : 1;
	return 0;
}

/*
 * The queue is per mount, so it holds ioends of many inodes; and
 * iomap_ioend_can_merge() does not compare inodes (XFS and ext4 keep a list
 * per inode). So the list is cut into one run per inode first, and ioends
 * merge only within their run.
 */
static void rext4_wbq_work(struct work_struct *work)
{
	struct rext4_wbq *q = container_of(work, struct rext4_wbq, work);
	unsigned long flags;
	unsigned int nofs;
	LIST_HEAD(list);

	spin_lock_irqsave(&q->lock, flags);
	list_splice_init(&q->list, &list);
	spin_unlock_irqrestore(&q->lock, flags);

	/* Completions run transactions: no reclaim back into file systems. */
	nofs = memalloc_nofs_save();
	list_sort(NULL, &list, rext4_ioend_cmp);
	while (!list_empty(&list)) {
		struct iomap_ioend *first =
			list_first_entry(&list, struct iomap_ioend, io_list);
		struct iomap_ioend *pos, *last = first;
		LIST_HEAD(run);

		list_for_each_entry(pos, &list, io_list) {
			if (pos->io_inode != first->io_inode)
				break;
			last = pos;
		}
		list_cut_position(&run, &list, &last->io_list);
		while (!list_empty(&run)) {
			struct iomap_ioend *ioend =
				list_first_entry(&run, struct iomap_ioend, io_list);
			int err;

			list_del_init(&ioend->io_list);
			iomap_ioend_try_merge(ioend, &run);
			err = blk_status_to_errno(ioend->io_bio.bi_status);
			err = q->done(ioend->io_inode, ioend->io_offset, ioend->io_size,
				      ioend->io_flags & IOMAP_IOEND_UNWRITTEN, err);
			iomap_finish_ioends(ioend, err);
			cond_resched();
		}
	}
	memalloc_nofs_restore(nofs);
}

struct rext4_wbq *rext4_wbq_create(const char *id,
				   int (*done)(struct inode *, loff_t, u64, bool, int))
{
	struct rext4_wbq *q = kzalloc(sizeof(*q), GFP_KERNEL);

	if (!q)
		return NULL;
	q->wq = alloc_workqueue("rext4-wb/%s", WQ_MEM_RECLAIM | WQ_UNBOUND, 1, id);
	if (!q->wq) {
		kfree(q);
		return NULL;
	}
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->list);
	INIT_WORK(&q->work, rext4_wbq_work);
	q->done = done;
	return q;
}

void rext4_wbq_flush(struct rext4_wbq *q)
{
	flush_workqueue(q->wq);
}

void rext4_wbq_destroy(struct rext4_wbq *q)
{
	/* destroy_workqueue() drains: every queued completion runs first. */
	destroy_workqueue(q->wq);
	kfree(q);
}

static void rext4_wbq_end_bio(struct bio *bio)
{
	struct iomap_ioend *ioend = iomap_ioend_from_bio(bio);
	struct rext4_wbq *q = ioend->io_private;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	if (list_empty(&q->list))
		queue_work(q->wq, &q->work);
	list_add_tail(&ioend->io_list, &q->list);
	spin_unlock_irqrestore(&q->lock, flags);
}

int rext4_ioend_submit(struct iomap_writepage_ctx *wpc, int error,
		       struct rext4_wbq *q)
{
	struct iomap_ioend *ioend = wpc->wb_ctx;

	if (q) {
		ioend->io_private = q;
		ioend->io_bio.bi_end_io = rext4_wbq_end_bio;
	}
	return iomap_ioend_writeback_submit(wpc, error);
}

struct inode *rext4_wpc_inode(const struct iomap_writepage_ctx *wpc)
{
	return wpc->inode;
}

struct iomap *rext4_wpc_iomap(struct iomap_writepage_ctx *wpc)
{
	return &wpc->iomap;
}

bool rext4_wpc_pending(const struct iomap_writepage_ctx *wpc, loff_t *pos,
		       u64 *size, bool *unwritten)
{
	const struct iomap_ioend *ioend = wpc->wb_ctx;

	if (!ioend)
		return false;
	*pos = ioend->io_offset;
	*size = ioend->io_size;
	*unwritten = ioend->io_flags & IOMAP_IOEND_UNWRITTEN;
	return true;
}

int rext4_writepages(struct address_space *mapping, struct writeback_control *wbc,
		     const struct iomap_writeback_ops *ops)
{
	struct iomap_writepage_ctx wpc = {
		.inode = mapping->host,
		.wbc = wbc,
		.ops = ops,
	};

	return iomap_writepages(&wpc);
}

vm_fault_t rext4_page_mkwrite(struct vm_fault *vmf, const struct iomap_ops *ops)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	vm_fault_t ret;

	sb_start_pagefault(inode->i_sb);
	file_update_time(vmf->vma->vm_file);
	filemap_invalidate_lock_shared(inode->i_mapping);
	ret = iomap_page_mkwrite(vmf, ops, NULL);
	filemap_invalidate_unlock_shared(inode->i_mapping);
	sb_end_pagefault(inode->i_sb);
	return ret;
}

int rext4_mmap_prepare(struct vm_area_desc *desc,
		       const struct vm_operations_struct *vm_ops)
{
	file_accessed(desc->file);
	desc->vm_ops = vm_ops;
	return 0;
}

int rext4_fsync_data(struct file *file, loff_t start, loff_t end)
{
	return file_write_and_wait_range(file, start, end);
}

int rext4_setsize_pagecache(struct inode *inode, loff_t newsize,
			    const struct iomap_ops *ops,
			    const struct iomap_write_ops *wops)
{
	struct address_space *mapping = inode->i_mapping;
	loff_t old = i_size_read(inode);
	loff_t tail = round_up(newsize, i_blocksize(inode)) - 1;
	int err;

	inode_dio_wait(inode);
	if (newsize > old) {
		/* The old EOF block's tail is zeroed on disk before it is inside. */
		rext4_zero_past_eof(inode, old, newsize);
		err = iomap_zero_range(inode, old, newsize - old, NULL, ops, wops,
				       NULL);
		if (!err)
			err = filemap_write_and_wait_range(mapping, old, newsize - 1);
		if (err)
			return err;
		truncate_setsize(inode, newsize);
		return 0;
	}
	/* The new EOF block's tail is zeroed, and written, before blocks go. */
	err = iomap_truncate_page(inode, newsize, NULL, ops, wops, NULL);
	if (!err)
		err = filemap_write_and_wait_range(mapping, newsize, tail);
	if (err)
		return err;
	filemap_invalidate_lock(mapping);
	truncate_setsize(inode, newsize);
	filemap_invalidate_unlock(mapping);
	return 0;
}
