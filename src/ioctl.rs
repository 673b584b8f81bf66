// SPDX-License-Identifier: GPL-2.0

//! The ioctls of `ext4_ioctl()` and `ext4_compat_ioctl()` that rext4 can
//! answer exactly as ext4 does on a read-only mount.
//!
//! Getters: the inode's generation (`lsattr -v`), the volume label and the
//! file system's UUID. The flag ioctls (`FS_IOC_GETFLAGS`,
//! `FS_IOC_FSGETXATTR`) reach rext4 through `fileattr_get`, and
//! `FS_IOC_GETFSUUID` is answered by the VFS from `s_uuid`.
//!
//! Setters of the label, the UUID and the generation fail the way ext4's
//! fail on a read-only mount: the permission and argument checks first,
//! then `EROFS` where ext4 asks for write access (`mnt_want_write_file()`).
//! Answering them with `ENOTTY` instead would be wrong: e2fsprogs takes
//! `ENOTTY` to mean "no such ioctl" and writes the super block on the
//! device underneath the mount.
//!
//! `EXT4_IOC_SHUTDOWN` (`FS_IOC_SHUTDOWN`) shuts the file system down as
//! ext4 does ([`crate::super_::shutdown`]).
//!
//! Anything else is `ENOTTY`.

use kernel::ffi::{c_int, c_long};
use kernel::ioctl::{_IOR, _IOW};
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice};

use crate::ondisk::features::{
    EXT4_FEATURE_COMPAT_STABLE_INODES, EXT4_FEATURE_INCOMPAT_CSUM_SEED,
    EXT4_FEATURE_RO_COMPAT_GDT_CSUM,
};
use crate::super_::Rext4Fs;
use crate::vfs::OpenFile;

const V: u32 = b'v' as u32;
const F: u32 = b'f' as u32;
/// `FS_IOC_GETVERSION` (ext4's `EXT4_IOC_GETVERSION_OLD`).
const FS_IOC_GETVERSION: u32 = _IOR::<c_long>(V, 1);
/// `FS_IOC_SETVERSION` (`EXT4_IOC_SETVERSION_OLD`).
const FS_IOC_SETVERSION: u32 = _IOW::<c_long>(V, 2);
/// `FS_IOC32_GETVERSION`.
const FS_IOC32_GETVERSION: u32 = _IOR::<c_int>(V, 1);
/// `FS_IOC32_SETVERSION`.
const FS_IOC32_SETVERSION: u32 = _IOW::<c_int>(V, 2);
/// `EXT4_IOC_GETVERSION`.
const EXT4_IOC_GETVERSION: u32 = _IOR::<c_long>(F, 3);
/// `EXT4_IOC_SETVERSION`.
const EXT4_IOC_SETVERSION: u32 = _IOW::<c_long>(F, 4);
/// `EXT4_IOC32_GETVERSION`.
const EXT4_IOC32_GETVERSION: u32 = _IOR::<c_int>(F, 3);
/// `EXT4_IOC32_SETVERSION`.
const EXT4_IOC32_SETVERSION: u32 = _IOW::<c_int>(F, 4);
/// `FSLABEL_MAX`: the size of the label buffer of the label ioctls.
const FSLABEL_MAX: usize = 256;
/// `EXT4_LABEL_MAX`: `s_volume_name` need not be NUL-terminated.
const EXT4_LABEL_MAX: usize = 16;
/// `FS_IOC_GETFSLABEL`.
const FS_IOC_GETFSLABEL: u32 = _IOR::<[u8; FSLABEL_MAX]>(0x94, 49);
/// `FS_IOC_SETFSLABEL`.
const FS_IOC_SETFSLABEL: u32 = _IOW::<[u8; FSLABEL_MAX]>(0x94, 50);
/// `struct fsuuid` without its flexible array: `fsu_len`, `fsu_flags`.
const FSUUID_HEAD: usize = 8;
/// `EXT4_IOC_GETFSUUID`.
const EXT4_IOC_GETFSUUID: u32 = _IOR::<[u8; FSUUID_HEAD]>(F, 44);
/// `EXT4_IOC_SETFSUUID`.
const EXT4_IOC_SETFSUUID: u32 = _IOW::<[u8; FSUUID_HEAD]>(F, 44);
/// `EXT4_IOC_SHUTDOWN` (`FS_IOC_SHUTDOWN`), native and compat alike.
const EXT4_IOC_SHUTDOWN: u32 = _IOR::<u32>(b'X' as u32, 125);
/// `UUID_SIZE`.
const UUID_SIZE: u32 = 16;

/// What a command asks for, after the compat mapping.
enum Request {
    GetVersion,
    SetVersion,
    GetLabel,
    SetLabel,
    GetUuid,
    SetUuid,
    Shutdown,
}

/// `ext4_ioctl()` accepts the native numbers; `ext4_compat_ioctl()` maps
/// the 32-bit `GETVERSION`/`SETVERSION` numbers to them and passes the
/// label and UUID commands through, and knows nothing else (not even the
/// native version numbers).
fn decode(cmd: u32, compat: bool) -> Option<Request> {
    Some(match (cmd, compat) {
        (FS_IOC_GETVERSION | EXT4_IOC_GETVERSION, false) => Request::GetVersion,
        (FS_IOC32_GETVERSION | EXT4_IOC32_GETVERSION, true) => Request::GetVersion,
        (FS_IOC_SETVERSION | EXT4_IOC_SETVERSION, false) => Request::SetVersion,
        (FS_IOC32_SETVERSION | EXT4_IOC32_SETVERSION, true) => Request::SetVersion,
        (FS_IOC_GETFSLABEL, _) => Request::GetLabel,
        (FS_IOC_SETFSLABEL, _) => Request::SetLabel,
        (EXT4_IOC_GETFSUUID, _) => Request::GetUuid,
        (EXT4_IOC_SETFSUUID, _) => Request::SetUuid,
        (EXT4_IOC_SHUTDOWN, _) => Request::Shutdown,
        _ => return None,
    })
}

/// Answers `cmd` on `file` (`compat`: from a 32-bit process).
pub(crate) fn ioctl(
    file: &OpenFile<'_, Rext4Fs>,
    cmd: u32,
    arg: UserPtr,
    compat: bool,
) -> Result<i64> {
    let inode = file.inode();
    let geo = &inode.sb().info().geo;
    match decode(cmd, compat).ok_or(ENOTTY)? {
        // `put_user(inode->i_generation, (int __user *)arg)`.
        Request::GetVersion => UserSlice::new(arg, 4)
            .writer()
            .write_slice(&inode.generation().to_ne_bytes())?,
        Request::SetVersion => {
            if !file.owner_or_capable() {
                return Err(EPERM);
            }
            if geo.has_metadata_csum() {
                // ext4 also logs a warning; rext4 keeps its log for damage.
                return Err(ENOTTY);
            }
            return Err(EROFS);
        }
        // `ext4_ioctl_getlabel()`: the label up to its first NUL,
        // NUL-padded to EXT4_LABEL_MAX + 1 bytes.
        Request::GetLabel => {
            let mut label = [0u8; EXT4_LABEL_MAX + 1];
            for (dst, &src) in label.iter_mut().zip(geo.volume_name.iter()) {
                if src == 0 {
                    break;
                }
                *dst = src;
            }
            UserSlice::new(arg, label.len())
                .writer()
                .write_slice(&label)?;
        }
        // `ext4_ioctl_setlabel()`: at most EXT4_LABEL_MAX bytes before a NUL.
        Request::SetLabel => {
            if !file.capable_sys_admin() {
                return Err(EPERM);
            }
            let mut label = [0u8; EXT4_LABEL_MAX + 1];
            UserSlice::new(arg, label.len())
                .reader()
                .read_slice(&mut label)?;
            if !label.contains(&0) {
                return Err(EINVAL);
            }
            return Err(EROFS);
        }
        Request::GetUuid => get_uuid(&geo.uuid, arg)?,
        // `ext4_ioctl_shutdown()`.
        Request::Shutdown => {
            if !file.capable_sys_admin() {
                return Err(EPERM);
            }
            let mut flags = [0u8; 4];
            UserSlice::new(arg, 4).reader().read_slice(&mut flags)?;
            crate::super_::shutdown(inode.sb(), u32::from_ne_bytes(flags))?;
        }
        // `ext4_ioctl_setuuid()`.
        Request::SetUuid => {
            if !file.capable_sys_admin() {
                return Err(EPERM);
            }
            let csums =
                geo.has_ro_compat(EXT4_FEATURE_RO_COMPAT_GDT_CSUM) || geo.has_metadata_csum();
            if (csums && !geo.has_incompat(EXT4_FEATURE_INCOMPAT_CSUM_SEED))
                || geo.has_compat(EXT4_FEATURE_COMPAT_STABLE_INODES)
            {
                return Err(EOPNOTSUPP);
            }
            let mut request = [0u8; FSUUID_HEAD + UUID_SIZE as usize];
            let mut reader = UserSlice::new(arg, request.len()).reader();
            let (head, uuid) = request.split_at_mut(FSUUID_HEAD);
            reader.read_slice(head)?;
            let (len, flags) = fsuuid_head(head);
            if len != UUID_SIZE || flags != 0 {
                return Err(EINVAL);
            }
            reader.read_slice(uuid)?;
            return Err(EROFS);
        }
    }
    Ok(0)
}

/// `fsu_len` and `fsu_flags` of a `struct fsuuid` header.
fn fsuuid_head(head: &[u8]) -> (u32, u32) {
    let word = |i: usize| {
        let mut w = [0u8; 4];
        if let Some(b) = head.get(i..i + 4) {
            w.copy_from_slice(b);
        }
        u32::from_ne_bytes(w)
    };
    (word(0), word(4))
}

/// `ext4_ioctl_getuuid()`: a zero `fsu_len` asks for the length; otherwise
/// it must hold 16 bytes and `fsu_flags` must be 0 (`EINVAL`), and the
/// length and the UUID are written back.
fn get_uuid(uuid: &[u8; 16], arg: UserPtr) -> Result {
    let mut head = [0u8; FSUUID_HEAD];
    UserSlice::new(arg, FSUUID_HEAD)
        .reader()
        .read_slice(&mut head)?;
    let (len, flags) = fsuuid_head(&head);
    let size = UUID_SIZE.to_ne_bytes();
    if len == 0 {
        return UserSlice::new(arg, size.len()).writer().write_slice(&size);
    }
    if len < UUID_SIZE || flags != 0 {
        return Err(EINVAL);
    }
    let mut out = UserSlice::new(arg, FSUUID_HEAD + uuid.len()).writer();
    out.write_slice(&size)?;
    out.write_slice(&flags.to_ne_bytes())?;
    out.write_slice(uuid)
}
