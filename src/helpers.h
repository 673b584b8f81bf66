/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for kernel static inline functions and macros that Rust cannot
 * call directly. Each is a one-liner over the kernel API of the same name; the
 * Rust side reaches them as bindings::rext4_<name>, from src/vfs/ only.
 */
#ifndef REXT4_HELPERS_H
#define REXT4_HELPERS_H

#include <linux/types.h>

struct super_block;
struct fs_context;
struct buffer_head;
struct inode;
struct dir_context;
struct folio;
struct readahead_control;
struct iomap_ops;
struct kmem_cache;

/* errorf(fc, "%s", msg): a mount error where mount(8)/fsconfig see it. */
void rext4_fc_error(struct fs_context *fc, const char *msg);
/* __ratelimit() on one state shared by all rext4 corruption reports. */
bool rext4_ratelimit(void);
/*
 * cond_resched(), then whether the task has a fatal signal pending: long
 * loops over directory blocks stop there, as ext4_readdir() does.
 */
bool rext4_should_stop(void);
bool rext4_fc_wants_rdonly(const struct fs_context *fc);

bool rext4_sb_rdonly(const struct super_block *sb);
u64 rext4_sb_bdev_bytes(struct super_block *sb);
struct buffer_head *rext4_sb_bread(struct super_block *sb, u64 block);
void rext4_brelse(struct buffer_head *bh);
bool rext4_sb_bdev_read_only(struct super_block *sb);
void rext4_lock_buffer(struct buffer_head *bh);
void rext4_unlock_buffer(struct buffer_head *bh);
/* __sync_dirty_buffer(bh, REQ_SYNC | REQ_FUA): ext4_commit_super()'s write. */
int rext4_sync_dirty_buffer_fua(struct buffer_head *bh);

/* The inode cache: objects of obj_size bytes with a struct inode at inode_off. */
struct kmem_cache *rext4_inode_cache_create(const char *name, size_t obj_size,
					    size_t align, size_t inode_off);
void *rext4_inode_cache_alloc(struct kmem_cache *cache);
void rext4_inode_cache_free(struct kmem_cache *cache, void *obj);
void rext4_inode_cache_destroy(struct kmem_cache *cache);

bool rext4_inode_is_new(struct inode *inode);
bool rext4_may_use_reserve(void);
int rext4_bdev_freeze(struct super_block *sb);
void rext4_bdev_thaw(struct super_block *sb);
struct delayed_call;
void rext4_set_delayed_kfree(struct delayed_call *done, void *p);
void rext4_inode_set_cached_link(struct inode *inode, char *link, int len);
loff_t rext4_i_size_read(const struct inode *inode);
void rext4_i_size_write(struct inode *inode, loff_t size);
void rext4_i_uid_write(struct inode *inode, u32 uid);
void rext4_i_gid_write(struct inode *inode, u32 gid);
void rext4_inode_set_times(struct inode *inode, s64 atime, u32 atime_ns,
			   s64 mtime, u32 mtime_ns, s64 ctime, u32 ctime_ns);
void rext4_mapping_set_large_folios(struct inode *inode);
dev_t rext4_mkdev(u32 major, u32 minor);

struct dentry;
struct file;
const unsigned char *rext4_dentry_name(const struct dentry *dentry, u32 *len);
struct inode *rext4_file_inode(const struct file *file);
bool rext4_capable_sys_admin(void);
/* inode_owner_or_capable() of the file's inode in the opener's idmapping. */
bool rext4_file_owner_or_capable(struct file *file);

struct posix_acl;
/* posix_acl_alloc() and filling one entry; ids map through init_user_ns. */
struct posix_acl *rext4_acl_alloc(unsigned int count);
void rext4_acl_set(struct posix_acl *acl, unsigned int i, u16 tag, u16 perm, u32 id);
void rext4_acl_release(struct posix_acl *acl);
void rext4_sb_set_posixacl(struct super_block *sb);

bool rext4_dir_emit(struct dir_context *ctx, const char *name, int len,
		    u64 ino, unsigned int type);
struct kiocb;
struct iov_iter;
struct iomap_ops;
struct kstat;
/* Opening a regular file: generic_file_open(); O_DIRECT and RWF_NOWAIT work. */
int rext4_file_open(struct inode *inode, struct file *file);
bool rext4_iocb_is_direct(const struct kiocb *iocb);
/* A direct read through iomap, under the shared inode lock (ext4_dio_read_iter). */
ssize_t rext4_dio_read_iter(struct kiocb *iocb, struct iov_iter *to,
			    const struct iomap_ops *ops);
/* statx STATX_DIOALIGN with iomap's defaults for the device. */
void rext4_stat_dioalign(struct inode *inode, struct kstat *stat);

/* Whether the reader of an open directory gets 32-bit hash cookies. */
bool rext4_dir_cookies_32bit(const struct file *file);
void *rext4_file_private(const struct file *file);
void rext4_file_set_private(struct file *file, void *data);

void rext4_iomap_bio_read_folio(struct folio *folio, const struct iomap_ops *ops);
void rext4_iomap_bio_readahead(struct readahead_control *rac,
			       const struct iomap_ops *ops);

/* The write path. */
struct mnt_idmap;
struct dentry;
typedef struct jbd2_journal_handle handle_t;
typedef struct journal_s journal_t;
struct buffer_head *rext4_sb_getblk(struct super_block *sb, u64 block);
/* The caller holds the buffer lock: zero the bytes, mark it up to date. */
void rext4_buffer_zero_uptodate(struct buffer_head *bh);
/* jbd2__journal_start() with GFP_NOFS, no reserved handle. */
handle_t *rext4_journal_start(journal_t *journal, int credits);
/* ext4_forget() of freed metadata block `block`; `handle` NULL without a journal. */
int rext4_forget_block(struct super_block *sb, handle_t *handle, u64 block);
u32 rext4_handle_tid(const handle_t *handle);
void rext4_now(s64 *sec, u32 *nsec);
u32 rext4_random_u32(void);
void rext4_new_owner(struct mnt_idmap *idmap, const struct inode *dir,
		     umode_t *mode, u32 *uid, u32 *gid);
int rext4_acl_create(struct inode *dir, umode_t *mode, struct posix_acl **dacl,
		     struct posix_acl **acl);
unsigned int rext4_acl_count(const struct posix_acl *acl);
void rext4_acl_entry(const struct posix_acl *acl, unsigned int i, u16 *tag, u16 *perm, u32 *id);
/* atime, mtime, ctime into t[0..3] and ns[0..3]. */
void rext4_inode_get_times(const struct inode *inode, s64 *t, u32 *ns);
u32 rext4_i_uid_read(const struct inode *inode);
u32 rext4_i_gid_read(const struct inode *inode);
void rext4_truncate_pages_final(struct inode *inode);
unsigned int rext4_inode_nlink(const struct inode *inode);
struct inode *rext4_dentry_inode(const struct dentry *dentry);
void rext4_sb_force_rdonly(struct super_block *sb);
void __noreturn rext4_panic(const char *dev);
/* sync_blockdev() and a cache flush: fsync without a journal. */
int rext4_sync_bdev(struct super_block *sb);
/* The most credits one handle may ask for (jbd2_max_user_trans_buffers()). */
int rext4_journal_max_credits(journal_t *journal);
/* A cache flush of the device (fsync after data-only writes). */
int rext4_flush_bdev(struct super_block *sb);
/* Whether transaction `tid` has finished committing. */
bool rext4_tid_committed(journal_t *journal, u32 tid);
/* Whether the current task has a jbd2 handle open. */
bool rext4_in_handle(void);
void rext4_sb_start_intwrite(struct super_block *sb);
void rext4_sb_end_intwrite(struct super_block *sb);
/* Whether the super block being reconfigured is read-only now. */
bool rext4_fc_sb_rdonly(const struct fs_context *fc);
/* A forced remount (emergency read-only): the VFS ignores our answer. */
bool rext4_fc_forced(const struct fs_context *fc);
/* Whether the reconfiguration says anything about ro/rw. */
bool rext4_fc_changes_rdonly(const struct fs_context *fc);

/* Regular-file writes through iomap (layer 2 of the write path). */
struct iomap_write_ops;
struct iomap_writeback_ops;
struct iomap_writepage_ctx;
struct iomap;
struct address_space;
struct writeback_control;
struct vm_fault;
struct vm_area_desc;
struct vm_operations_struct;
/*
 * A buffered write (ext4_buffered_write_iter()): under i_rwsem, checks,
 * file_modified(), the gap after the old EOF zeroed, iomap's write; O_DIRECT
 * is served the same way, then written and dropped from the cache
 * (direct_write_fallback()). IOCB_NOWAIT gets -EOPNOTSUPP, as in ext4.
 */
ssize_t rext4_buffered_write_iter(struct kiocb *iocb, struct iov_iter *from,
				  const struct iomap_ops *ops,
				  const struct iomap_write_ops *wops);
/*
 * A per-mount writeback completion queue: ioends that need work after their
 * I/O (unwritten conversion, the on-disk size) are queued from bio completion
 * to one work item on a WQ_MEM_RECLAIM workqueue, which sorts and merges them
 * and calls done() for each before ending folio writeback.
 */
struct rext4_wbq;
struct rext4_wbq *rext4_wbq_create(const char *id,
				   int (*done)(struct inode *, loff_t, u64, bool, int));
void rext4_wbq_flush(struct rext4_wbq *q);
void rext4_wbq_destroy(struct rext4_wbq *q);
/* writeback_submit: the ioend goes to `q` at completion when q != NULL. */
int rext4_ioend_submit(struct iomap_writepage_ctx *wpc, int error,
		       struct rext4_wbq *q);
struct inode *rext4_wpc_inode(const struct iomap_writepage_ctx *wpc);
struct iomap *rext4_wpc_iomap(struct iomap_writepage_ctx *wpc);
/* The ioend being built: its range and whether it is unwritten. */
bool rext4_wpc_pending(const struct iomap_writepage_ctx *wpc, loff_t *pos,
		       u64 *size, bool *unwritten);
int rext4_writepages(struct address_space *mapping, struct writeback_control *wbc,
		     const struct iomap_writeback_ops *ops);
/* page_mkwrite: freeze protection, time update, invalidate_lock shared. */
unsigned int rext4_page_mkwrite(struct vm_fault *vmf, const struct iomap_ops *ops);
int rext4_mmap_prepare(struct vm_area_desc *desc,
		       const struct vm_operations_struct *vm_ops);
/* fsync's data part: file_write_and_wait_range(). */
int rext4_fsync_data(struct file *file, loff_t start, loff_t end);
/*
 * The page-cache side of a size change, under i_rwsem: growing zeroes and
 * writes the old EOF block's tail; shrinking zeroes and writes the new EOF
 * block's tail, then truncates the cache under invalidate_lock.
 */
int rext4_setsize_pagecache(struct inode *inode, loff_t newsize,
			    const struct iomap_ops *ops,
			    const struct iomap_write_ops *wops);

#endif
