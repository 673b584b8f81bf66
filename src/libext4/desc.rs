// SPDX-License-Identifier: GPL-2.0

//! Group descriptors through a [`Trans`]: read one (checksum and pointers
//! checked), and write one back with its checksum
//! (`ext4_group_desc_csum_set()`), for the allocators.

use super::super::ondisk::group_desc::{
    ext4_group_desc_csum_set, ext4_group_desc_csum_verify, GroupDesc,
};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Error, Result};
use super::trans::Trans;

/// A group descriptor and where it lives.
pub struct Desc<B> {
    /// The descriptor block.
    pub buf: B,
    /// Byte offset of the descriptor in it.
    pub off: usize,
    /// The decoded descriptor.
    pub gd: GroupDesc,
}

/// Reads the descriptor of `group`.
pub fn read_desc<T: Trans>(tx: &mut T, geo: &Geometry, group: u32) -> Result<Desc<T::Buf>> {
    let loc = geo.group_desc_location(group)?;
    let buf = tx.bread(loc.block)?;
    let off = usize::try_from(loc.offset).map_err(|_| Error::Corrupt("descriptor offset"))?;
    let raw = tx
        .data(&buf)
        .get(off..)
        .ok_or(Error::Corrupt("descriptor offset"))?;
    // As ext4_get_group_desc() after ext4_check_descriptors(): checksum
    // and pointers inside the group's range, before anything trusts it.
    ext4_group_desc_csum_verify(geo, group, raw)?;
    let gd = GroupDesc::parse(raw, geo)?;
    gd.check(geo, group)?;
    Ok(Desc { buf, off, gd })
}

/// Writes `d.gd` back into its block, with the descriptor checksum.
pub fn write_desc<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    group: u32,
    d: &Desc<T::Buf>,
) -> Result<()> {
    tx.edit(&d.buf, |b| {
        let raw = b
            .get_mut(d.off..)
            .ok_or(Error::Corrupt("descriptor offset"))?;
        d.gd.encode(raw, geo)?;
        ext4_group_desc_csum_set(geo, group, raw)
    })?
}
