// SPDX-License-Identifier: GPL-2.0

//! The ioctls ext4 answers on a read-only mount with data rext4 has
//! (`ext4_ioctl()`, `ext4_compat_ioctl()`): the inode's generation
//! (`lsattr -v`), the volume label and the file system's UUID. The flag
//! ioctls (`FS_IOC_GETFLAGS`, `FS_IOC_FSGETXATTR`) reach rext4 through
//! `fileattr_get`, and `FS_IOC_GETFSUUID` is answered by the VFS from
//! `s_uuid`. Everything else (setters included) is `ENOTTY`, as on a file
//! system without the ioctl.

use kernel::ffi::{c_int, c_long};
use kernel::ioctl::_IOR;
use kernel::prelude::*;
use kernel::uaccess::{UserPtr, UserSlice};

use crate::super_::Rext4Fs;
use crate::vfs::inode::Inode;

/// `FS_IOC_GETVERSION` (ext4's `EXT4_IOC_GETVERSION_OLD`).
const FS_IOC_GETVERSION: u32 = _IOR::<c_long>(b'v' as u32, 1);
/// `FS_IOC32_GETVERSION` (`EXT4_IOC32_GETVERSION_OLD`).
const FS_IOC32_GETVERSION: u32 = _IOR::<c_int>(b'v' as u32, 1);
/// `EXT4_IOC_GETVERSION`.
const EXT4_IOC_GETVERSION: u32 = _IOR::<c_long>(b'f' as u32, 3);
/// `EXT4_IOC32_GETVERSION`.
const EXT4_IOC32_GETVERSION: u32 = _IOR::<c_int>(b'f' as u32, 3);
/// `FSLABEL_MAX`: the size of the label buffer of the label ioctls.
const FSLABEL_MAX: usize = 256;
/// `FS_IOC_GETFSLABEL`.
const FS_IOC_GETFSLABEL: u32 = _IOR::<[u8; FSLABEL_MAX]>(0x94, 49);
/// `struct fsuuid` without its flexible array: `fsu_len`, `fsu_flags`.
const FSUUID_HEAD: usize = 8;
/// `EXT4_IOC_GETFSUUID`.
const EXT4_IOC_GETFSUUID: u32 = _IOR::<[u8; FSUUID_HEAD]>(b'f' as u32, 44);
/// `UUID_SIZE`.
const UUID_SIZE: u32 = 16;

/// What a command asks for, after the compat mapping.
enum Request {
    Version,
    Label,
    Uuid,
}

/// `ext4_ioctl()` accepts the native numbers; `ext4_compat_ioctl()` maps
/// the 32-bit `GETVERSION` numbers to them and passes the label and UUID
/// commands through, and knows nothing else (not even the native
/// `GETVERSION` numbers).
fn decode(cmd: u32, compat: bool) -> Option<Request> {
    match (cmd, compat) {
        (FS_IOC_GETVERSION | EXT4_IOC_GETVERSION, false) => Some(Request::Version),
        (FS_IOC32_GETVERSION | EXT4_IOC32_GETVERSION, true) => Some(Request::Version),
        (FS_IOC_GETFSLABEL, _) => Some(Request::Label),
        (EXT4_IOC_GETFSUUID, _) => Some(Request::Uuid),
        _ => None,
    }
}

/// Answers `cmd` on `inode` (a file or directory open by the caller).
pub(crate) fn ioctl(inode: &Inode<Rext4Fs>, cmd: u32, arg: UserPtr, compat: bool) -> Result<i64> {
    let geo = &inode.sb().info().geo;
    match decode(cmd, compat).ok_or(ENOTTY)? {
        // `put_user(inode->i_generation, (int __user *)arg)`.
        Request::Version => {
            UserSlice::new(arg, 4)
                .writer()
                .write_slice(&inode.generation().to_ne_bytes())?;
        }
        // `ext4_ioctl_getlabel()`: the label up to its first NUL,
        // NUL-padded to EXT4_LABEL_MAX + 1 bytes.
        Request::Label => {
            let mut label = [0u8; 17];
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
        Request::Uuid => get_uuid(&geo.uuid, arg)?,
    }
    Ok(0)
}

/// `ext4_ioctl_getuuid()`: a zero `fsu_len` asks for the length; otherwise
/// it must hold 16 bytes and `fsu_flags` must be 0 (`EINVAL`), and the
/// length and the UUID are written back.
fn get_uuid(uuid: &[u8; 16], arg: UserPtr) -> Result {
    let mut head = [0u8; FSUUID_HEAD];
    UserSlice::new(arg, FSUUID_HEAD)
        .reader()
        .read_slice(&mut head)?;
    let len = u32::from_ne_bytes([head[0], head[1], head[2], head[3]]);
    let flags = u32::from_ne_bytes([head[4], head[5], head[6], head[7]]);
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
