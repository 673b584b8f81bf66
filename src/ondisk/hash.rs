// SPDX-License-Identifier: GPL-2.0

//! Directory-index name hashes (`fs/ext4/hash.c`): the legacy
//! `dx_hack_hash`, a cut-down MD4 and TEA, each in a signed-char and an
//! unsigned-char flavour because the original code fed `char` bytes whose
//! signedness depended on the CPU; `s_flags` records which one a file system
//! was created with. Results must match Linux bit for bit, since they decide
//! which htree leaf a name lives in. Casefolded and encrypted (SipHash) names
//! are not supported here.

use super::error::{Error, Result};

/// `DX_HASH_LEGACY`.
pub const DX_HASH_LEGACY: u8 = 0;
/// `DX_HASH_HALF_MD4`.
pub const DX_HASH_HALF_MD4: u8 = 1;
/// `DX_HASH_TEA`.
pub const DX_HASH_TEA: u8 = 2;
/// `DX_HASH_LEGACY_UNSIGNED`.
pub const DX_HASH_LEGACY_UNSIGNED: u8 = 3;
/// `DX_HASH_HALF_MD4_UNSIGNED`.
pub const DX_HASH_HALF_MD4_UNSIGNED: u8 = 4;
/// `DX_HASH_TEA_UNSIGNED`.
pub const DX_HASH_TEA_UNSIGNED: u8 = 5;
/// `DX_HASH_SIPHASH` (casefolded + encrypted directories).
pub const DX_HASH_SIPHASH: u8 = 6;
/// `EXT4_HTREE_EOF_32BIT`: reserved end-of-directory hash for 32-bit cookies.
pub const EXT4_HTREE_EOF_32BIT: u32 = (1 << 31) - 1;

/// Major and minor hash of a name (`struct dx_hash_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DxHash {
    /// Major hash, low bit clear (the htree collision bit).
    pub hash: u32,
    /// Minor hash (0 for the legacy hash).
    pub minor_hash: u32,
}

/// The hash version a lookup uses: the root's version, shifted to the unsigned
/// variant when the superblock says so (`dx_probe()`).
pub fn effective_hash_version(root_hash_version: u8, hash_unsigned: bool) -> u8 {
    if root_hash_version <= DX_HASH_TEA && hash_unsigned {
        root_hash_version.saturating_add(3)
    } else {
        root_hash_version
    }
}

/// `ext4fs_dirhash()` without casefolding: hashes `name` with `version`
/// (one of the `DX_HASH_*` values; SipHash is `Unsupported`) and `seed`
/// (`s_hash_seed`; all zeroes selects the MD4 initial state).
pub fn ext4fs_dirhash(name: &[u8], version: u8, seed: &[u32; 4]) -> Result<DxHash> {
    let mut buf: [u32; 4] = if seed.iter().any(|&w| w != 0) {
        *seed
    } else {
        [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476]
    };
    let (hash, minor_hash) = match version {
        DX_HASH_LEGACY => (dx_hack_hash(name, true), 0),
        DX_HASH_LEGACY_UNSIGNED => (dx_hack_hash(name, false), 0),
        DX_HASH_HALF_MD4 | DX_HASH_HALF_MD4_UNSIGNED => {
            let signed = version == DX_HASH_HALF_MD4;
            let mut rest = name;
            while !rest.is_empty() {
                half_md4_transform(&mut buf, &str2hashbuf(rest, signed));
                rest = rest.get(32..).unwrap_or(&[]);
            }
            (buf[1], buf[2])
        }
        DX_HASH_TEA | DX_HASH_TEA_UNSIGNED => {
            let signed = version == DX_HASH_TEA;
            let mut rest = name;
            while !rest.is_empty() {
                tea_transform(&mut buf, &str2hashbuf(rest, signed));
                rest = rest.get(16..).unwrap_or(&[]);
            }
            (buf[0], buf[1])
        }
        DX_HASH_SIPHASH => return Err(Error::Unsupported("siphash directory hash")),
        _ => return Err(Error::Corrupt("unknown directory hash version")),
    };
    let mut hash = hash & !1;
    if hash == EXT4_HTREE_EOF_32BIT << 1 {
        hash = (EXT4_HTREE_EOF_32BIT - 1) << 1;
    }
    Ok(DxHash { hash, minor_hash })
}

/// A name byte widened as the C code does: through `signed char` (sign
/// extension) or `unsigned char`.
fn widen(byte: u8, signed: bool) -> u32 {
    if signed {
        i32::from(byte as i8) as u32
    } else {
        u32::from(byte)
    }
}

/// `dx_hack_hash_{signed,unsigned}`.
fn dx_hack_hash(name: &[u8], signed: bool) -> u32 {
    let (mut hash0, mut hash1): (u32, u32) = (0x12a3_fe2d, 0x37ab_e8f9);
    for &c in name {
        let mut hash = hash1.wrapping_add(hash0 ^ widen(c, signed).wrapping_mul(7_152_373));
        if hash & 0x8000_0000 != 0 {
            hash = hash.wrapping_sub(0x7fff_ffff);
        }
        hash1 = hash0;
        hash0 = hash;
    }
    hash0 << 1
}

/// `str2hashbuf_{signed,unsigned}`: packs up to `4 * N` bytes of `rest`
/// (the not yet hashed tail of the name) into words, padding with a pattern
/// derived from the whole remaining length.
fn str2hashbuf<const N: usize>(rest: &[u8], signed: bool) -> [u32; N] {
    // The C code keeps the length in an int and replicates its low byte.
    let len32 = rest.len() as u32;
    let mut pad = len32 | (len32 << 8);
    pad |= pad << 16;
    let mut out = [pad; N];
    let take = rest.len().min(N.saturating_mul(4));
    let bytes = rest.get(..take).unwrap_or(&[]);
    let mut words = bytes.chunks_exact(4);
    let mut slots = out.iter_mut();
    for (word, slot) in words.by_ref().zip(slots.by_ref()) {
        let mut val = 0u32;
        for &b in word {
            val = (val << 8).wrapping_add(widen(b, signed));
        }
        *slot = val;
    }
    // A trailing partial word starts from the pad pattern; a full final word
    // still leaves the next slot as plain pad (already there).
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut val = pad;
        for &b in rest {
            val = widen(b, signed).wrapping_add(val << 8);
        }
        if let Some(slot) = slots.next() {
            *slot = val;
        }
    }
    out
}

fn f(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}

fn g(x: u32, y: u32, z: u32) -> u32 {
    (x & y).wrapping_add((x ^ y) & z)
}

fn h(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

const K2: u32 = 0o13240474631;
const K3: u32 = 0o15666365641;

/// `half_md4_transform()`: three rounds of MD4 over eight words; `buf` is
/// the running state.
fn half_md4_transform(buf: &mut [u32; 4], input: &[u32; 8]) {
    let [mut a, mut b, mut c, mut d] = *buf;
    let [i0, i1, i2, i3, i4, i5, i6, i7] = *input;
    // a = rol(a + f(b, c, d) + x, s)
    fn round(func: fn(u32, u32, u32) -> u32, a: &mut u32, b: u32, c: u32, d: u32, x: u32, s: u32) {
        *a = a.wrapping_add(func(b, c, d)).wrapping_add(x).rotate_left(s);
    }
    round(f, &mut a, b, c, d, i0, 3);
    round(f, &mut d, a, b, c, i1, 7);
    round(f, &mut c, d, a, b, i2, 11);
    round(f, &mut b, c, d, a, i3, 19);
    round(f, &mut a, b, c, d, i4, 3);
    round(f, &mut d, a, b, c, i5, 7);
    round(f, &mut c, d, a, b, i6, 11);
    round(f, &mut b, c, d, a, i7, 19);

    round(g, &mut a, b, c, d, i1.wrapping_add(K2), 3);
    round(g, &mut d, a, b, c, i3.wrapping_add(K2), 5);
    round(g, &mut c, d, a, b, i5.wrapping_add(K2), 9);
    round(g, &mut b, c, d, a, i7.wrapping_add(K2), 13);
    round(g, &mut a, b, c, d, i0.wrapping_add(K2), 3);
    round(g, &mut d, a, b, c, i2.wrapping_add(K2), 5);
    round(g, &mut c, d, a, b, i4.wrapping_add(K2), 9);
    round(g, &mut b, c, d, a, i6.wrapping_add(K2), 13);

    round(h, &mut a, b, c, d, i3.wrapping_add(K3), 3);
    round(h, &mut d, a, b, c, i7.wrapping_add(K3), 9);
    round(h, &mut c, d, a, b, i2.wrapping_add(K3), 11);
    round(h, &mut b, c, d, a, i6.wrapping_add(K3), 15);
    round(h, &mut a, b, c, d, i1.wrapping_add(K3), 3);
    round(h, &mut d, a, b, c, i5.wrapping_add(K3), 9);
    round(h, &mut c, d, a, b, i0.wrapping_add(K3), 11);
    round(h, &mut b, c, d, a, i4.wrapping_add(K3), 15);

    buf[0] = buf[0].wrapping_add(a);
    buf[1] = buf[1].wrapping_add(b);
    buf[2] = buf[2].wrapping_add(c);
    buf[3] = buf[3].wrapping_add(d);
}

/// `TEA_transform()`: 16 rounds of TEA keyed by the input words.
fn tea_transform(buf: &mut [u32; 4], input: &[u32; 4]) {
    const DELTA: u32 = 0x9E37_79B9;
    let (mut sum, mut b0, mut b1) = (0u32, buf[0], buf[1]);
    let [a, b, c, d] = *input;
    for _ in 0..16 {
        sum = sum.wrapping_add(DELTA);
        b0 = b0.wrapping_add(
            ((b1 << 4).wrapping_add(a)) ^ b1.wrapping_add(sum) ^ ((b1 >> 5).wrapping_add(b)),
        );
        b1 = b1.wrapping_add(
            ((b0 << 4).wrapping_add(c)) ^ b0.wrapping_add(sum) ^ ((b0 >> 5).wrapping_add(d)),
        );
    }
    buf[0] = buf[0].wrapping_add(b0);
    buf[1] = buf[1].wrapping_add(b1);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from `debugfs -R "dx_hash -h <alg> [-s <seed>] <name>"` (e2fsprogs
    // 1.47.0), which implements the same functions independently.
    include!("hash_vectors.rs");

    #[test]
    fn debugfs_vectors() {
        for &(alg, seed, name, hash, minor) in VECTORS {
            let got = ext4fs_dirhash(name, alg, seed);
            assert_eq!(
                got,
                Ok(DxHash {
                    hash,
                    minor_hash: minor
                }),
                "alg {alg} name {:?}",
                core::str::from_utf8(name)
            );
        }
    }

    #[test]
    fn zero_seed_is_default_seed() {
        let default = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
        for v in [DX_HASH_HALF_MD4, DX_HASH_TEA_UNSIGNED] {
            assert_eq!(
                ext4fs_dirhash(b"abc", v, &[0; 4]),
                ext4fs_dirhash(b"abc", v, &default)
            );
        }
    }

    #[test]
    fn siphash_unsupported() {
        assert_eq!(
            ext4fs_dirhash(b"x", DX_HASH_SIPHASH, &[0; 4]),
            Err(Error::Unsupported("siphash directory hash"))
        );
        assert!(matches!(
            ext4fs_dirhash(b"x", 7, &[0; 4]),
            Err(Error::Corrupt(_))
        ));
    }
}
