// SPDX-License-Identifier: GPL-2.0

//! POSIX ACLs as ext4 stores them in the `system.posix_acl_access` and
//! `system.posix_acl_default` xattrs (`fs/ext4/acl.h`): a 4-byte header with
//! version 1, then entries of 4 bytes (`ACL_USER_OBJ`, `ACL_GROUP_OBJ`,
//! `ACL_MASK`, `ACL_OTHER`) or 8 bytes (`ACL_USER`, `ACL_GROUP`, with an id).
//! Decoding checks the version, every tag and the exact length, as
//! `ext4_acl_from_disk()` does; the kernel glue builds a `struct posix_acl`,
//! and encodes one back entry by entry (`ext4_acl_to_disk()`).

use super::bytes::{le16, le32, put_le16, put_le32};
use super::{Error, Result};

/// `EXT4_ACL_VERSION`.
pub const EXT4_ACL_VERSION: u32 = 1;
/// Owner.
pub const ACL_USER_OBJ: u16 = 0x01;
/// Named user.
pub const ACL_USER: u16 = 0x02;
/// Owning group.
pub const ACL_GROUP_OBJ: u16 = 0x04;
/// Named group.
pub const ACL_GROUP: u16 = 0x08;
/// Mask.
pub const ACL_MASK: u16 = 0x10;
/// Others.
pub const ACL_OTHER: u16 = 0x20;

/// One decoded entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AclEntry {
    /// `ACL_*` tag.
    pub tag: u16,
    /// rwx bits.
    pub perm: u16,
    /// User or group id for `ACL_USER` / `ACL_GROUP`, else 0.
    pub id: u32,
}

/// A validated on-disk ACL.
#[derive(Clone, Copy, Debug)]
pub struct Acl<'a> {
    entries: &'a [u8],
    count: usize,
}

impl<'a> Acl<'a> {
    /// Decodes and validates an xattr value.
    pub fn parse(value: &'a [u8]) -> Result<Acl<'a>> {
        if le32(value, 0, "acl header")? != EXT4_ACL_VERSION {
            return Err(Error::Corrupt("acl version"));
        }
        let entries = value.get(4..).ok_or(Error::Corrupt("acl header"))?;
        let mut acl = Acl { entries, count: 0 };
        let mut off = 0usize;
        while off < entries.len() {
            let (_, len) = acl.entry_at(off)?;
            off = off.checked_add(len).ok_or(Error::Corrupt("acl length"))?;
            acl.count = acl.count.saturating_add(1);
        }
        if off != entries.len() {
            return Err(Error::Corrupt("acl length"));
        }
        Ok(acl)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn entry_at(&self, off: usize) -> Result<(AclEntry, usize)> {
        let tag = le16(self.entries, off, "acl entry")?;
        let perm = le16(self.entries, off.saturating_add(2), "acl entry")?;
        match tag {
            ACL_USER_OBJ | ACL_GROUP_OBJ | ACL_MASK | ACL_OTHER => {
                Ok((AclEntry { tag, perm, id: 0 }, 4))
            }
            ACL_USER | ACL_GROUP => {
                let id = le32(self.entries, off.saturating_add(4), "acl entry")?;
                Ok((AclEntry { tag, perm, id }, 8))
            }
            _ => Err(Error::Corrupt("acl entry tag")),
        }
    }

    /// The entries, in on-disk order.
    pub fn iter(&self) -> impl Iterator<Item = AclEntry> + 'a {
        let this = *self;
        let mut off = 0usize;
        core::iter::from_fn(move || {
            let (e, len) = this.entry_at(off).ok()?;
            off = off.saturating_add(len);
            Some(e)
        })
        .take(self.count)
    }
}

/// Bytes `ext4_acl_to_disk()` makes of one entry with tag `tag`: the id
/// only for named users and groups.
pub fn encoded_entry_len(tag: u16) -> Result<usize> {
    match tag {
        ACL_USER_OBJ | ACL_GROUP_OBJ | ACL_MASK | ACL_OTHER => Ok(4),
        ACL_USER | ACL_GROUP => Ok(8),
        _ => Err(Error::OutOfRange("acl entry tag")),
    }
}

/// Writes entry number `i` (0 is the header) at `off` of `out`, as
/// `ext4_acl_to_disk()`; returns the offset past it. Callers write the
/// header with [`encode_header`] first.
pub fn encode_entry(out: &mut [u8], off: usize, e: AclEntry) -> Result<usize> {
    let len = encoded_entry_len(e.tag)?;
    put_le16(out, off, e.tag, "acl entry")?;
    put_le16(out, off.saturating_add(2), e.perm, "acl entry")?;
    if len == 8 {
        put_le32(out, off.saturating_add(4), e.id, "acl entry")?;
    }
    Ok(off.saturating_add(len))
}

/// The version word every on-disk ACL starts with; returns its length.
pub fn encode_header(out: &mut [u8]) -> Result<usize> {
    put_le32(out, 0, EXT4_ACL_VERSION, "acl header")?;
    Ok(4)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_it_decodes() {
        let entries = [
            AclEntry {
                tag: ACL_USER_OBJ,
                perm: 6,
                id: 0,
            },
            AclEntry {
                tag: ACL_USER,
                perm: 4,
                id: 1000,
            },
            AclEntry {
                tag: ACL_GROUP_OBJ,
                perm: 4,
                id: 0,
            },
            AclEntry {
                tag: ACL_GROUP,
                perm: 2,
                id: 77,
            },
            AclEntry {
                tag: ACL_MASK,
                perm: 6,
                id: 0,
            },
            AclEntry {
                tag: ACL_OTHER,
                perm: 0,
                id: 0,
            },
        ];
        let mut out = [0u8; 64];
        let mut off = encode_header(&mut out).expect("room"); // ok-panic: test only
        for e in entries {
            off = encode_entry(&mut out, off, e).expect("room"); // ok-panic: test only
        }
        assert_eq!(off, 4 + 4 * 4 + 2 * 8);
        let acl = Acl::parse(&out[..off]).expect("valid"); // ok-panic: test only
        assert!(acl.iter().eq(entries));
        assert!(encode_entry(
            &mut out,
            0,
            AclEntry {
                tag: 0x40,
                perm: 0,
                id: 0
            }
        )
        .is_err());
    }

    fn v(parts: &[&[u8]]) -> std::vec::Vec<u8> {
        parts.concat()
    }

    #[test]
    fn decodes_short_and_long_entries() {
        let raw = v(&[
            &1u32.to_le_bytes(),
            &[1, 0, 6, 0],
            &[2, 0, 4, 0],
            &1000u32.to_le_bytes(),
            &[4, 0, 4, 0],
            &[0x10, 0, 6, 0],
            &[0x20, 0, 0, 0],
        ]);
        let acl = Acl::parse(&raw).expect("valid"); // ok-panic: test only
        let e: std::vec::Vec<_> = acl.iter().collect();
        assert_eq!(e.len(), 5);
        assert_eq!(
            e[1],
            AclEntry {
                tag: ACL_USER,
                perm: 4,
                id: 1000
            }
        );
        assert_eq!(e[4].tag, ACL_OTHER);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Acl::parse(&v(&[&2u32.to_le_bytes()])).is_err());
        assert!(Acl::parse(&v(&[&1u32.to_le_bytes(), &[0x40, 0, 0, 0]])).is_err());
        assert!(Acl::parse(&v(&[&1u32.to_le_bytes(), &[2, 0, 4, 0]])).is_err());
        assert!(Acl::parse(&v(&[&1u32.to_le_bytes(), &[1, 0]])).is_err());
        assert_eq!(Acl::parse(&1u32.to_le_bytes()).map(|a| a.len()), Ok(0));
    }
}
