// SPDX-License-Identifier: GPL-2.0

//! Random operations through the shared write layer against a model of
//! what the tree must hold: seeded creates with data, mkdirs, unlinks,
//! rmdirs, hard links and renames within and across directories (including ones that
//! must fail: EEXIST, ENOENT, ENOTEMPTY, a directory moved below itself) in
//! transactions of 40, with e2fsck -fn after every transaction as the
//! judge, and at the end every directory's listing (names, inode numbers,
//! types) and every file's bytes compared with the model, through the host
//! reader and through debugfs. An operation the layer does not support yet
//! (a directory block that would have to grow) must change nothing.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;
use rext4_core::libext4::data::fill_empty_file;
use rext4_core::libext4::namei::{create, link, mkdir, rename, rmdir, unlink, NewInode, Time};
use rext4_core::ondisk::{Errno, Error};

#[derive(Clone, Debug)]
enum Node {
    File { ino: u32, data: Vec<u8> },
    Dir { ino: u32 },
}

fn ino_of(n: &Node) -> u32 {
    match n {
        Node::File { ino, .. } | Node::Dir { ino } => *ino,
    }
}

fn parent_of(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((p, _)) => p,
    }
}

fn base_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, b)| b)
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[test]
fn random_operations_match_the_model_and_keep_e2fsck_clean() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args, seed) in [
        ("4k-csum", &["-b", "4096"][..], 0x5EED_0001u64),
        (
            "1k-nocsum",
            &["-b", "1024", "-O", "^metadata_csum"][..],
            0x5EED_0002,
        ),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 64 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let mut rng = Rng(seed);
        let mut model: BTreeMap<String, Node> = BTreeMap::new();
        model.insert("/".into(), Node::Dir { ino: 2 });
        let lf = Image::open(&img).namei("/lost+found").unwrap();
        model.insert("/lost+found".into(), Node::Dir { ino: lf });
        let mut stats = BTreeMap::<&str, u32>::new();
        let mut clock = 1_700_000_000i64;

        for batch in 0..25 {
            let mut tx = ImageTrans::new(&img, &geo);
            for _ in 0..40 {
                clock += 1;
                let now = Time {
                    sec: clock,
                    nsec: rng.below(1_000_000_000) as u32,
                };
                let n = NewInode {
                    perm: 0o644,
                    uid: rng.below(3) as u32,
                    gid: 0,
                    now,
                    generation: rng.next() as u32,
                };
                let dirs: Vec<String> = model
                    .iter()
                    .filter(|(_, v)| matches!(v, Node::Dir { .. }))
                    .map(|(k, _)| k.clone())
                    .collect();
                let paths: Vec<String> = model.keys().filter(|k| *k != "/").cloned().collect();
                let dir = dirs[rng.below(dirs.len() as u64) as usize].clone();
                let dir_ino = ino_of(&model[&dir]);
                let fresh = format!("n{}-{}", batch, rng.below(1000));
                match rng.below(13) {
                    0..=3 => {
                        let path = join(&dir, &fresh);
                        let len = rng.below(3 * geo.block_size as u64) as usize;
                        let data = rng.bytes(len);
                        match create(&mut tx, &geo, dir_ino, fresh.as_bytes(), &n) {
                            Ok(Some(ino)) => {
                                assert!(!model.contains_key(&path), "{name}: {path} created twice");
                                assert!(fill_empty_file(&mut tx, &geo, ino, &data).unwrap());
                                model.insert(path, Node::File { ino, data });
                                *stats.entry("create").or_default() += 1;
                            }
                            Err(Error::Refused(Errno::Exists)) => {
                                assert!(model.contains_key(&path), "{name}: EEXIST for {path}");
                                *stats.entry("eexist").or_default() += 1;
                            }
                            Err(Error::Unsupported(_)) => {
                                *stats.entry("unsupported").or_default() += 1;
                            }
                            r => panic!("{name}: create {path}: {r:?}"),
                        }
                    }
                    4 | 5 => {
                        let path = join(&dir, &fresh);
                        match mkdir(&mut tx, &geo, dir_ino, fresh.as_bytes(), &n) {
                            Ok(Some(ino)) => {
                                assert!(!model.contains_key(&path), "{name}: {path} twice");
                                model.insert(path, Node::Dir { ino });
                                *stats.entry("mkdir").or_default() += 1;
                            }
                            Err(Error::Refused(Errno::Exists)) => {
                                assert!(model.contains_key(&path));
                            }
                            Err(Error::Unsupported(_)) => {
                                *stats.entry("unsupported").or_default() += 1;
                            }
                            r => panic!("{name}: mkdir {path}: {r:?}"),
                        }
                    }
                    6 | 7 if !paths.is_empty() => {
                        let path = paths[rng.below(paths.len() as u64) as usize].clone();
                        if path == "/lost+found" {
                            continue;
                        }
                        let pino = ino_of(&model[parent_of(&path)]);
                        let base = base_of(&path).to_string();
                        match model[&path].clone() {
                            Node::File { ino, .. } => {
                                let r = unlink(&mut tx, &geo, pino, base.as_bytes(), now);
                                assert_eq!(r, Ok(Some(ino)), "{name}: unlink {path}");
                                model.remove(&path);
                                *stats.entry("unlink").or_default() += 1;
                                let again = unlink(&mut tx, &geo, pino, base.as_bytes(), now);
                                assert_eq!(again, Ok(None), "{name}: ENOENT {path}");
                            }
                            Node::Dir { ino } => {
                                let prefix = format!("{path}/");
                                let empty = !model.keys().any(|k| k.starts_with(&prefix));
                                let r = rmdir(&mut tx, &geo, pino, base.as_bytes(), now);
                                if empty {
                                    assert_eq!(r, Ok(Some(ino)), "{name}: rmdir {path}");
                                    model.remove(&path);
                                    *stats.entry("rmdir").or_default() += 1;
                                } else {
                                    assert_eq!(
                                        r,
                                        Err(Error::Refused(Errno::NotEmpty)),
                                        "{name}: rmdir {path}"
                                    );
                                    *stats.entry("enotempty").or_default() += 1;
                                }
                            }
                        }
                    }
                    12 if !paths.is_empty() => {
                        let path = paths[rng.below(paths.len() as u64) as usize].clone();
                        let dest = join(&dir, &fresh);
                        let node = model[&path].clone();
                        let r = link(
                            &mut tx,
                            &geo,
                            ino_of(&node),
                            (dir_ino, fresh.as_bytes()),
                            now,
                        );
                        match node {
                            Node::Dir { .. } => assert_eq!(
                                r,
                                Err(Error::Refused(Errno::Perm)),
                                "{name}: link {path}"
                            ),
                            Node::File { .. } if model.contains_key(&dest) => {
                                assert_eq!(r, Err(Error::Refused(Errno::Exists)), "{name}")
                            }
                            Node::File { .. } => match r {
                                Ok(()) => {
                                    model.insert(dest, node);
                                    *stats.entry("link").or_default() += 1;
                                }
                                Err(Error::Unsupported(_)) => {
                                    *stats.entry("unsupported").or_default() += 1;
                                }
                                r => panic!("{name}: link {path} -> {dest}: {r:?}"),
                            },
                        }
                    }
                    10 | 11 if !paths.is_empty() => {
                        let path = paths[rng.below(paths.len() as u64) as usize].clone();
                        if path == "/lost+found" {
                            continue;
                        }
                        let pino = ino_of(&model[parent_of(&path)]);
                        let base = base_of(&path).to_string();
                        let dest = join(&dir, &fresh);
                        let node = model[&path].clone();
                        let into_itself = matches!(node, Node::Dir { .. })
                            && (dir == path || dir.starts_with(&format!("{path}/")));
                        let r = rename(
                            &mut tx,
                            &geo,
                            (pino, base.as_bytes()),
                            (dir_ino, fresh.as_bytes()),
                            now,
                        );
                        if into_itself {
                            assert_eq!(
                                r,
                                Err(Error::Refused(Errno::Invalid)),
                                "{name}: {path} -> {dest}"
                            );
                            *stats.entry("einval").or_default() += 1;
                        } else if model.contains_key(&dest) {
                            assert_eq!(r, Err(Error::Refused(Errno::Exists)), "{name}");
                        } else {
                            match r {
                                Ok(Some(ino)) => assert_eq!(ino, ino_of(&node), "{name}"),
                                Err(Error::Unsupported(_)) => {
                                    *stats.entry("unsupported").or_default() += 1;
                                    continue;
                                }
                                r => panic!("{name}: rename {path} -> {dest}: {r:?}"),
                            }
                            // Move the subtree in the model.
                            let prefix = format!("{path}/");
                            let moved: Vec<String> = model
                                .keys()
                                .filter(|k| **k == path || k.starts_with(&prefix))
                                .cloned()
                                .collect();
                            for k in moved {
                                let v = model.remove(&k).unwrap();
                                model.insert(format!("{dest}{}", &k[path.len()..]), v);
                            }
                            *stats.entry("rename").or_default() += 1;
                        }
                    }
                    _ => {
                        // A name that does not exist.
                        let r = unlink(&mut tx, &geo, dir_ino, b"no-such-name", now);
                        assert_eq!(r, Ok(None), "{name}");
                    }
                }
            }
            tx.commit();
            assert_e2fsck_clean(&tools, &img, &format!("{name}: after batch {batch}"));
        }

        // The tree is the model: listings through the host reader, bytes
        // through debugfs.
        let im = Image::open(&img);
        for (path, node) in &model {
            assert_eq!(im.namei(path), Some(ino_of(node)), "{name}: {path}");
            if let Node::Dir { ino } = node {
                let mut names: Vec<String> = im
                    .list_dir(*ino)
                    .into_iter()
                    .map(|(n, _, _)| String::from_utf8(n).unwrap())
                    .filter(|n| n != "." && n != "..")
                    .collect();
                names.sort();
                let prefix = if path == "/" {
                    "/".to_string()
                } else {
                    format!("{path}/")
                };
                let mut want: Vec<String> = model
                    .keys()
                    .filter(|k| {
                        k.starts_with(&prefix) && *k != path && !k[prefix.len()..].contains('/')
                    })
                    .map(|k| k[prefix.len()..].to_string())
                    .collect();
                want.sort();
                assert_eq!(names, want, "{name}: listing of {path}");
            }
        }
        let files: Vec<_> = model
            .iter()
            .filter_map(|(p, n)| match n {
                Node::File { data, .. } => Some((p, data)),
                _ => None,
            })
            .collect();
        for (path, data) in files.iter().step_by(7) {
            let out = Command::new(&tools.debugfs)
                .arg("-R")
                .arg(format!("cat {path}"))
                .arg(&img)
                .output()
                .unwrap();
            assert_eq!(&out.stdout, *data, "{name}: {path} bytes");
        }
        eprintln!("{name}: {stats:?}, {} objects at the end", model.len());
        for k in [
            "create",
            "mkdir",
            "unlink",
            "rmdir",
            "enotempty",
            "rename",
            "link",
        ] {
            assert!(
                stats.get(k).copied().unwrap_or(0) > 0,
                "{name}: no {k} ran: {stats:?}"
            );
        }
    }
}
