// SPDX-License-Identifier: GPL-2.0

//! Extent status: a per-inode cache of what each logical block range is
//! (written, unwritten, delayed, hole), and the sequence counter that tells
//! iomap whether a mapping it holds is still valid (ext4's `i_es_seq`, seed
//! patches 06 and 08).
//!
//! Pure logic: no locks, no allocation, no kernel types. The inode keeps one
//! [`EsCache`] behind a spinlock; `cargo test` exercises it on the host.
//!
//! The cache is bounded (`ES_SLOTS` ranges, replaced round-robin): a miss
//! costs one extent-tree walk, which reads through the buffer cache. The
//! sequence number, though, counts every change to the file's *mapping*
//! ([`EsCache::changed`]), not cache fills, so a mapping stays valid across
//! evictions and refills of the same on-disk state.

/// What a range of logical blocks is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EsKind {
    /// Written blocks from this physical block on.
    Written(u64),
    /// Allocated, unwritten (reads as zeros) blocks from this physical block.
    Unwritten(u64),
    /// Delayed allocation: data in the page cache, no blocks yet.
    Delayed,
    /// No blocks.
    Hole,
}

/// One cached range: `len` blocks from logical block `lblk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Es {
    /// First logical block.
    pub lblk: u32,
    /// Number of blocks.
    pub len: u32,
    /// What they are.
    pub kind: EsKind,
}

impl Es {
    /// One past the last logical block, in 64 bits (a range may end at 2^32).
    pub fn end(&self) -> u64 {
        // Two 32-bit values: the sum cannot overflow 64 bits.
        u64::from(self.lblk).saturating_add(u64::from(self.len))
    }

    fn contains(&self, lblk: u32) -> bool {
        lblk >= self.lblk && u64::from(lblk) < self.end()
    }

    /// The part of this range from `lblk` on (which it must contain).
    pub fn from_block(&self, lblk: u32) -> Es {
        let skip = lblk.saturating_sub(self.lblk);
        let kind = match self.kind {
            EsKind::Written(p) => EsKind::Written(p.saturating_add(skip.into())),
            EsKind::Unwritten(p) => EsKind::Unwritten(p.saturating_add(skip.into())),
            k => k,
        };
        Es {
            lblk,
            len: self.len.saturating_sub(skip),
            kind,
        }
    }
}

/// Number of ranges cached per inode.
pub const ES_SLOTS: usize = 8;

/// The per-inode cache.
#[derive(Debug)]
pub struct EsCache {
    slots: [Option<Es>; ES_SLOTS],
    next_victim: usize,
    seq: u64,
}

impl Default for EsCache {
    fn default() -> Self {
        Self::new()
    }
}

impl EsCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self {
            slots: [None; ES_SLOTS],
            next_victim: 0,
            seq: 0,
        }
    }

    /// The mapping sequence number: iomap's validity cookie.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The cached range containing `lblk`, trimmed to start at `lblk`.
    pub fn lookup(&self, lblk: u32) -> Option<Es> {
        self.slots
            .iter()
            .flatten()
            .find(|es| es.contains(lblk))
            .map(|es| es.from_block(lblk))
    }

    /// Remembers `es` as read from disk (no change to the mapping, so the
    /// sequence number stays). Overlapping cached ranges are dropped first.
    pub fn cache(&mut self, es: Es) {
        if es.len == 0 {
            return;
        }
        self.forget(es.lblk, es.end());
        let slot = match self.slots.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None => {
                let i = self.next_victim % ES_SLOTS;
                self.next_victim = i.wrapping_add(1) % ES_SLOTS;
                i
            }
        };
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(es);
        }
    }

    /// Records that the mapping of `[lblk, end)` changed (allocation,
    /// conversion, truncate, punch): cached knowledge of it is dropped and
    /// every outstanding mapping becomes invalid.
    pub fn changed(&mut self, lblk: u32, end: u64) {
        self.forget(lblk, end);
        self.seq = self.seq.wrapping_add(1);
    }

    /// Drops every cached range overlapping `[lblk, end)`.
    fn forget(&mut self, lblk: u32, end: u64) {
        for s in self.slots.iter_mut() {
            if let Some(es) = s {
                if u64::from(es.lblk) < end && es.end() > u64::from(lblk) {
                    *s = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(lblk: u32, len: u32, p: u64) -> Es {
        Es {
            lblk,
            len,
            kind: EsKind::Written(p),
        }
    }

    #[test]
    fn lookup_trims_to_the_block() {
        let mut c = EsCache::new();
        c.cache(written(10, 5, 100));
        assert_eq!(c.lookup(12), Some(written(12, 3, 102)));
        assert_eq!(c.lookup(15), None);
        assert_eq!(c.lookup(9), None);
    }

    #[test]
    fn cache_fill_keeps_seq_but_change_bumps_it() {
        let mut c = EsCache::new();
        let s0 = c.seq();
        c.cache(written(0, 1, 5));
        assert_eq!(c.seq(), s0);
        c.changed(0, 1);
        assert_ne!(c.seq(), s0);
        assert_eq!(c.lookup(0), None);
    }

    #[test]
    fn overlapping_fill_replaces() {
        let mut c = EsCache::new();
        c.cache(written(0, 10, 100));
        c.cache(Es {
            lblk: 5,
            len: 10,
            kind: EsKind::Hole,
        });
        assert_eq!(c.lookup(2), None);
        assert_eq!(c.lookup(7).map(|e| e.kind), Some(EsKind::Hole));
    }

    #[test]
    fn eviction_is_bounded() {
        let mut c = EsCache::new();
        for i in 0..100u32 {
            c.cache(written(i * 10, 10, u64::from(i) * 1000));
        }
        let hits = (0..100u32).filter(|i| c.lookup(i * 10).is_some()).count();
        assert_eq!(hits, ES_SLOTS);
        assert!(c.lookup(99 * 10).is_some());
    }

    #[test]
    fn range_ending_at_2_pow_32() {
        let mut c = EsCache::new();
        c.cache(Es {
            lblk: u32::MAX - 1,
            len: 2,
            kind: EsKind::Hole,
        });
        assert_eq!(c.lookup(u32::MAX).map(|e| e.len), Some(1));
        c.changed(u32::MAX, 1 << 32);
        assert_eq!(c.lookup(u32::MAX - 1), None);
    }
}
