// SPDX-License-Identifier: GPL-2.0

//! Cross-checks the directory hash functions against a live `debugfs
//! dx_hash` for every algorithm, signedness, a zero and a random seed, and a
//! set of pseudo-random names (including bytes >= 0x80, where the signed and
//! unsigned variants differ). The baked-in vectors in `hash.rs` cover hosts
//! without e2fsprogs; this catches anything they miss.

mod common;

use common::*;
use rext4_core::ondisk::hash::ext4fs_dirhash;

#[test]
fn dirhash_matches_live_debugfs() {
    let Some(tools) = tools() else { return };
    let work = TempDir::new("dxhash");
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 8 << 20, &[], None);
    let mut rng = Rng(42);
    let seeds: [Option<[u8; 16]>; 2] = [None, Some(rng.bytes(16).try_into().unwrap())];
    let mut names: Vec<Vec<u8>> = Vec::new();
    for len in [
        1usize, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 200, 255,
    ] {
        // Printable bytes plus some high-bit ones; debugfs takes the name as
        // one argument, so avoid whitespace, quotes and backslashes.
        let name: Vec<u8> = (0..len)
            .map(|_| {
                let r = rng.below(100) as u8;
                if r < 20 {
                    0x80 + r * 3
                } else {
                    b'a' + r % 26
                }
            })
            .collect();
        names.push(name);
    }
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for seed in &seeds {
        let words: [u32; 4] = match seed {
            Some(b) => {
                std::array::from_fn(|i| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap()))
            }
            None => [0; 4],
        };
        let seed_arg = seed.map(|b| {
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                " -s {}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        });
        for alg in 0u8..6 {
            for name in &names {
                let mut req = format!("dx_hash -h {alg}{} ", seed_arg.clone().unwrap_or_default())
                    .into_bytes();
                req.extend_from_slice(name);
                requests.push(req);
                expected.push(ext4fs_dirhash(name, alg, &words).unwrap());
            }
        }
    }
    // debugfs -f reads raw bytes, so write the request file directly.
    let cmdfile = work.path().join("cmds");
    let mut body = Vec::new();
    for r in &requests {
        body.extend_from_slice(r);
        body.push(b'\n');
    }
    std::fs::write(&cmdfile, body).unwrap();
    let out = std::process::Command::new(&tools.debugfs)
        .arg("-f")
        .arg(&cmdfile)
        .arg(&img)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let got: Vec<(u32, u32)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.rsplit_once(" is 0x")?.1;
            let (h, m) = rest.split_once(" (minor 0x")?;
            Some((
                u32::from_str_radix(h, 16).ok()?,
                u32::from_str_radix(m.trim_end_matches(')'), 16).ok()?,
            ))
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "debugfs output:\n{text}");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(
            *g,
            (e.hash, e.minor_hash),
            "request {:?}",
            String::from_utf8_lossy(&requests[i])
        );
    }
}
