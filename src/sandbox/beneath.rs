//! Opening paths inside a tree without ever leaving it.
//!
//! A repository is attacker-controlled: any component of `module.path`, of a `testFiles`
//! entry, or the runner's `testSummary.json`, may be a symbolic link to the reference
//! solution, to `/proc/<worker>/environ` or to a secret file. Every path the worker opens in
//! a job root goes through `openat2(2)` with `RESOLVE_BENEATH` (no `..` or absolute link may
//! leave the starting directory) and `RESOLVE_NO_MAGICLINKS`; where a path must not contain
//! a link at all, `RESOLVE_NO_SYMLINKS`. Kernels before 5.6 lack `openat2`: there every
//! component is opened with `O_NOFOLLOW`, so no link is followed at all.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

/// How links inside the tree are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Links that stay inside the tree are followed.
    Inside,
    /// No link is followed at all.
    Never,
}

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Opens a directory to start from (the tree's top; it may itself be reached through links,
/// it is the worker's own path).
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    // SAFETY: a valid C string; the fd is owned on success.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `openat2(dir, rel, flags, RESOLVE_BENEATH | ...)`, or the `O_NOFOLLOW` walk without it.
pub fn open_beneath(dir: RawFd, rel: &Path, flags: i32, links: Links) -> io::Result<OwnedFd> {
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path is not relative inside its tree",
        ));
    }
    let c = cstr(rel)?;
    let mut resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    if links == Links::Never {
        resolve |= libc::RESOLVE_NO_SYMLINKS;
    }
    // SAFETY: open_how is plain data; all-zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    // SAFETY: valid pointers for the duration of the call; the fd is owned on success.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd >= 0 {
        // SAFETY: a fresh descriptor we own.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ENOSYS) {
        return open_nofollow_walk(dir, rel, flags);
    }
    Err(err)
}

/// Without `openat2`: every component opened with `O_NOFOLLOW`.
fn open_nofollow_walk(dir: RawFd, rel: &Path, flags: i32) -> io::Result<OwnedFd> {
    let parts: Vec<&std::ffi::OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut current: Option<OwnedFd> = None;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let c = cstr(Path::new(part))?;
        let at = current.as_ref().map_or(dir, |f| f.as_raw_fd());
        let f = if last {
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC
        } else {
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC
        };
        // SAFETY: valid C string; fd owned on success.
        let fd = unsafe { libc::openat(at, c.as_ptr(), f) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        current = Some(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    match current {
        Some(fd) => Ok(fd),
        // "." or an empty path: the directory itself.
        None => {
            // SAFETY: dup of a valid descriptor.
            let fd = unsafe { libc::fcntl(dir, libc::F_DUPFD_CLOEXEC, 0) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh descriptor we own.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        }
    }
}

/// Whether `rel` is a directory beneath `base` reached through no symbolic link at all.
pub fn is_plain_dir_beneath(base: &Path, rel: &Path) -> io::Result<()> {
    let top = open_dir(base)?;
    open_beneath(
        top.as_raw_fd(),
        rel,
        libc::O_RDONLY | libc::O_DIRECTORY,
        Links::Never,
    )
    .map(drop)
}

/// Opens `rel` (file or directory) for reading beneath `base`, links inside the tree
/// followed; non-blocking, so a FIFO cannot hang the worker.
fn open_entry_beneath(base: &Path, rel: &Path) -> io::Result<OwnedFd> {
    let top = open_dir(base)?;
    open_beneath(
        top.as_raw_fd(),
        rel,
        libc::O_RDONLY | libc::O_NONBLOCK,
        Links::Inside,
    )
}

/// Reads a regular file beneath `base` (links inside the tree followed), at most `max` bytes.
/// FIFOs, devices and directories are refused without blocking.
pub fn read_file_beneath(base: &Path, rel: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = File::from(open_entry_beneath(base, rel)?);
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.len() > max {
        return Err(io::Error::other(format!("larger than {max} bytes")));
    }
    let mut out = Vec::new();
    file.take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(out)
}

/// Copies `rel` (a file or a directory tree) from beneath `base` to `dst`. Links inside the
/// tree are followed for `rel` itself; inside a copied directory, links are skipped, as are
/// FIFOs, sockets and devices. Returns how many entries were skipped.
pub fn copy_beneath(base: &Path, rel: &Path, dst: &Path) -> io::Result<u64> {
    let fd = open_entry_beneath(base, rel)?;
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)?;
    }
    copy_fd(fd, dst)
}

fn copy_fd(fd: OwnedFd, dst: &Path) -> io::Result<u64> {
    let file = File::from(fd);
    let meta = file.metadata()?;
    if meta.is_file() {
        let mut out = File::create(dst)?;
        io::copy(&mut &file, &mut out)?;
        return Ok(0);
    }
    if !meta.is_dir() {
        return Err(io::Error::other("not a regular file or directory"));
    }
    std::fs::create_dir_all(dst)?;
    let mut skipped = 0;
    for name in list_dir(file.as_raw_fd())? {
        let child = open_beneath(
            file.as_raw_fd(),
            Path::new(&name),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW,
            Links::Never,
        );
        match child.and_then(|c| copy_fd(c, &dst.join(&name))) {
            Ok(n) => skipped += n,
            Err(_) => skipped += 1,
        }
    }
    Ok(skipped)
}

/// Names in a directory given by descriptor (not `.` and `..`).
fn list_dir(dir: RawFd) -> io::Result<Vec<std::ffi::OsString>> {
    use std::os::unix::ffi::OsStringExt;
    // fdopendir takes ownership of its descriptor: give it a duplicate.
    // SAFETY: dup of a valid descriptor.
    let dup = unsafe { libc::fcntl(dir, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: dup is ours; on success the DIR owns it.
    let d = unsafe { libc::fdopendir(dup) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: dup is still ours when fdopendir fails.
        unsafe { libc::close(dup) };
        return Err(e);
    }
    // A fresh DIR on a duplicate shares the offset with `dir`: start from the beginning.
    // SAFETY: d is a valid DIR.
    unsafe { libc::rewinddir(d) };
    let mut names = Vec::new();
    loop {
        // SAFETY: d is valid; the entry lives until the next readdir.
        let ent = unsafe { libc::readdir(d) };
        if ent.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) };
        let bytes = name.to_bytes();
        if bytes != b"." && bytes != b".." {
            names.push(std::ffi::OsString::from_vec(bytes.to_vec()));
        }
    }
    // SAFETY: d is valid and closed once.
    unsafe { libc::closedir(d) };
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_out_of_the_tree_are_refused() {
        let t = std::env::temp_dir().join(format!("tw-beneath-{}", uuid::Uuid::new_v4()));
        let tree = t.join("tree");
        std::fs::create_dir_all(tree.join("sub")).unwrap();
        std::fs::write(t.join("secret"), "s").unwrap();
        std::fs::write(tree.join("sub/f"), "ok").unwrap();
        symlink("../secret", tree.join("out")).unwrap();
        symlink("/etc", tree.join("abs")).unwrap();
        symlink("sub", tree.join("in")).unwrap();
        assert_eq!(
            read_file_beneath(&tree, Path::new("sub/f"), 10).unwrap(),
            b"ok"
        );
        assert_eq!(
            read_file_beneath(&tree, Path::new("in/f"), 10).unwrap(),
            b"ok"
        );
        assert!(read_file_beneath(&tree, Path::new("out"), 10).is_err());
        assert!(read_file_beneath(&tree, Path::new("abs/passwd"), 10_000).is_err());
        assert!(read_file_beneath(&tree, Path::new("../secret"), 10).is_err());
        assert!(read_file_beneath(&tree, Path::new("sub/f"), 1).is_err());
        assert!(is_plain_dir_beneath(&tree, Path::new("sub")).is_ok());
        assert!(is_plain_dir_beneath(&tree, Path::new("in")).is_err());
        // Copies skip links inside directories.
        symlink("/etc/passwd", tree.join("sub/leak")).unwrap();
        let dst = t.join("copy");
        assert_eq!(copy_beneath(&tree, Path::new("sub"), &dst).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(dst.join("f")).unwrap(), "ok");
        assert!(!dst.join("leak").exists());
        assert!(copy_beneath(&tree, Path::new("out"), &t.join("c2")).is_err());
        std::fs::remove_dir_all(&t).unwrap();
    }
}
