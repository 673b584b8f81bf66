// SPDX-License-Identifier: GPL-2.0

//! Checksums used by ext4 and JBD2: crc32c (Castagnoli) for everything under
//! `metadata_csum`, and the ANSI crc16 that older `uninit_bg`/`gdt_csum` file
//! systems use for group descriptors. The tables are built at compile time so
//! the kernel pays nothing at module load. ext4 chains crc32c *without* the
//! customary final inversion (the kernel's `ext4_chksum()`), so the raw update
//! function is the primitive here and the textbook checksum is derived from it.

/// Castagnoli polynomial, bit-reversed.
const CRC32C_POLY: u32 = 0x82F6_3B78;
/// ANSI crc16 polynomial 0x8005, bit-reversed (Linux `lib/crc16.c`).
const CRC16_POLY: u16 = 0xA001;

/// The byte-at-a-time table of a reflected (LSB-first) CRC with bit-reversed
/// polynomial `poly`. A 16-bit polynomial gives 16-bit entries: shifting
/// right never carries a bit above the polynomial's width.
// Evaluated by the compiler: an out-of-range index here would be a build
// error, never a runtime panic, so plain indexing is acceptable.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn reflected_table(poly: u32) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC32C_TABLE: [u32; 256] = reflected_table(CRC32C_POLY);
static CRC16_TABLE: [u32; 256] = reflected_table(CRC16_POLY as u32);

/// Feeds `data` into a running crc32c without pre- or post-inversion; this is
/// exactly the kernel's `ext4_chksum(crc, data, len)` / `crc32c(crc, ...)`.
pub fn ext4_chksum(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        // The low byte of `crc ^ b` always indexes inside the 256-entry table.
        let idx = usize::from((crc as u8) ^ b);
        crc = (crc >> 8) ^ CRC32C_TABLE.get(idx).copied().unwrap_or(0);
    }
    crc
}

/// The standard crc32c of `data` (initial value and final xor `!0`), as used
/// by iSCSI and as quoted in test vectors.
pub fn crc32c(data: &[u8]) -> u32 {
    !ext4_chksum(!0, data)
}

/// Feeds `data` into a running crc16 (Linux `crc16()`; no inversion).
pub fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        let idx = usize::from((crc as u8) ^ b);
        // Entries fit 16 bits (see `reflected_table`).
        crc = (crc >> 8) ^ CRC16_TABLE.get(idx).copied().unwrap_or(0) as u16;
    }
    crc
}

/// The checksum seed of a file system: `s_checksum_seed` when the `csum_seed`
/// feature stores it, otherwise crc32c of the UUID (the kernel's
/// `sbi->s_csum_seed`). Pass `None` when `csum_seed` is not set.
pub fn ext4_csum_seed(uuid: &[u8; 16], s_checksum_seed: Option<u32>) -> u32 {
    match s_checksum_seed {
        Some(seed) => seed,
        None => ext4_chksum(!0, uuid),
    }
}

/// Per-inode seed (`ei->i_csum_seed`): the fs seed chained with the inode
/// number and generation, both little-endian. Inode, extent block, directory
/// block and htree checksums all start from it.
pub fn ext4_inode_csum_seed(fs_seed: u32, ino: u32, generation: u32) -> u32 {
    let csum = ext4_chksum(fs_seed, &ino.to_le_bytes());
    ext4_chksum(csum, &generation.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
        // RFC 3720 B.4: 32 bytes of zeroes, and of 0xff.
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
    }

    #[test]
    fn crc32c_chains() {
        let whole = ext4_chksum(!0, b"hello world");
        let split = ext4_chksum(ext4_chksum(!0, b"hello "), b"world");
        assert_eq!(whole, split);
    }

    #[test]
    fn crc16_check_values() {
        // CRC-16/ARC and CRC-16/MODBUS share the reflected 0x8005 polynomial.
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
        assert_eq!(crc16(0xFFFF, b"123456789"), 0x4B37);
    }
}
