// SPDX-License-Identifier: GPL-2.0

//! The one way the library changes metadata: a transaction over block
//! buffers, in the spirit of `xfs_trans` and ext4's `ext4_journal_*`
//! helpers. The kernel's implementation takes jbd2 write access before a
//! change and marks the buffer dirty in the handle after it (or, without a
//! journal, marks it dirty in the buffer cache); the host's keeps the
//! changed blocks and writes them to the image at commit.

use super::super::ondisk::Result;

/// A running transaction.
pub trait Trans {
    /// A referenced block buffer.
    type Buf;

    /// Reads block `blk` of the file system.
    fn bread(&mut self, blk: u64) -> Result<Self::Buf>;

    /// A block the caller has just allocated and will fill entirely: no
    /// read, contents zero (`sb_getblk()` with jbd2 create access, which
    /// also cancels a revoke of the block from before it was freed).
    fn new_block(&mut self, blk: u64) -> Result<Self::Buf>;

    /// The bytes of `b` as the transaction sees them.
    fn data<'a>(&'a self, b: &'a Self::Buf) -> &'a [u8];

    /// Changes `b` with `f`: write access, the change, then the buffer
    /// marked dirty in the transaction, in one call so no step can be
    /// skipped. The caller recomputes any checksum inside `f`.
    fn edit<R>(&mut self, b: &Self::Buf, f: impl FnOnce(&mut [u8]) -> R) -> Result<R>;

    /// The allocators changed the free counts by `blocks` and `inodes` (a
    /// group descriptor already says so): the kernel keeps the file
    /// system's totals in memory, as ext4's per-cpu counters, and writes
    /// them to the super block when it commits it. The host recounts the
    /// descriptors instead.
    fn counted(&mut self, blocks: i64, inodes: i64) {
        let _ = (blocks, inodes);
    }

    /// Blocks `start..start + len` were freed in this transaction. Under a
    /// journal they must not be handed out again until this transaction
    /// has committed (ext4 defers it with a commit callback): a crash
    /// before the commit would otherwise give a block to two owners, and
    /// jbd2 refuses a block its committing transaction still holds.
    fn freed(&mut self, start: u64, len: u64) -> Result<()> {
        let _ = (start, len);
        Ok(())
    }

    /// Metadata block `blk` is being freed: the journal must not replay an
    /// older copy of it over whatever is written there next, and a dirty
    /// cached copy must not be written back (`ext4_forget()`: a jbd2
    /// revoke record, or `bforget()` without a journal).
    fn forget(&mut self, blk: u64) -> Result<()> {
        let _ = blk;
        Ok(())
    }

    /// Whether the free block `blk` may be allocated now: `None` if so,
    /// else the first block past the stretch of blocks freed by a
    /// transaction that has not committed yet which holds `blk`, so the
    /// allocator can skip the whole stretch at once.
    fn pending_until(&mut self, blk: u64) -> Option<u64> {
        let _ = blk;
        None
    }
}
