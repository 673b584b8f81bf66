// SPDX-License-Identifier: GPL-2.0

//! Block mappings handed to the iomap layer.
//!
//! C header: [`include/linux/iomap.h`]
//!
//! The file system answers `iomap_begin` with a [`Mapping`]; the trampoline
//! in `tables` turns it into a `struct iomap`. The validity cookie is the
//! extent-status sequence number seen when the mapping was made, which
//! iomap compares again (`iomap_valid`) before trusting a cached mapping.

/// What a file range is on disk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MappingKind {
    /// No blocks: reads as zeros.
    Hole,
    /// Written blocks starting at this byte address on the device.
    Mapped(u64),
    /// Allocated but unwritten blocks at this device byte address: read as
    /// zeros.
    Unwritten(u64),
}

/// One mapping: `length` bytes of the file from byte `offset`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mapping {
    pub(crate) kind: MappingKind,
    pub(crate) offset: i64,
    pub(crate) length: u64,
    pub(crate) cookie: u64,
    /// The mapping was merged from per-block maps (`IOMAP_F_MERGED`, which
    /// FIEMAP reports): ext4 sets it for mapped blocks of indirect-map inodes.
    pub(crate) merged: bool,
    /// The blocks were allocated for this write (`IOMAP_F_NEW`): iomap
    /// zeroes what the write does not cover.
    pub(crate) new: bool,
}

/// A mount's queue of writeback completions that need the file system
/// (unwritten extents to convert, the on-disk size to raise): bio
/// completion hands their ioends to a work item on a `WQ_MEM_RECLAIM`
/// workqueue, which calls [`super::FileSystem::ioend_done`] for each
/// before ending the folios' writeback.
pub(crate) struct WbQueue(core::ptr::NonNull<crate::bindings::rext4_wbq>);

// SAFETY: the queue is a kernel object with its own lock; any task may
// queue to it and the owner destroys it once.
unsafe impl Send for WbQueue {}
// SAFETY: as above; shared use only queues work.
unsafe impl Sync for WbQueue {}

impl WbQueue {
    /// A queue named after device `id`.
    pub(crate) fn new<T: super::FileSystem>(id: &kernel::str::CStr) -> kernel::error::Result<Self> {
        // SAFETY: `id` is NUL-terminated; the callback is a trampoline
        // with the prototype the queue calls.
        let q = unsafe {
            crate::bindings::rext4_wbq_create(
                kernel::str::CStrExt::as_char_ptr(id),
                Some(super::tables::ioend_done::<T>),
            )
        };
        core::ptr::NonNull::new(q)
            .map(Self)
            .ok_or(kernel::error::code::ENOMEM)
    }

    /// Waits until every completion queued so far has run.
    pub(crate) fn flush(&self) {
        // SAFETY: a live queue (owned by `self`).
        unsafe { crate::bindings::rext4_wbq_flush(self.0.as_ptr()) };
    }

    pub(crate) fn as_raw(&self) -> *mut crate::bindings::rext4_wbq {
        self.0.as_ptr()
    }
}

impl Drop for WbQueue {
    fn drop(&mut self) {
        // SAFETY: created by `new`, destroyed once; destroying drains the
        // queued completions first.
        unsafe { crate::bindings::rext4_wbq_destroy(self.0.as_ptr()) };
    }
}
