//! Removing a job root whatever the job did to it.
//!
//! The job runs as the worker's uid, so it owns everything it made and cannot take the
//! worker's rights away; but it can take its own (`chmod 000`), nest directories past
//! `PATH_MAX`, or deeper than a walk can hold descriptors for. The removal walks by
//! descriptor ([`super::dirfd`]), gives each directory `u+rwx` back before reading it, never
//! follows a link, and moves a subtree found [`MAX_HELD`] levels down up to the root, so any
//! depth is removed with a bounded number of open descriptors.

use std::ffi::CString;
use std::io;
use std::path::Path;

use super::dirfd::{self, Dir};

/// Directories held open at once while removing.
const MAX_HELD: usize = 64;

/// Removes `root` and everything below it, however deep and whatever its modes; a link or a
/// file at `root` is removed itself, never followed. A missing `root` is not an error.
pub fn remove_tree(root: &Path) -> io::Result<()> {
    let top = match Dir::open(root) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        // Not a directory (or a link): remove the entry itself.
        Err(e)
            if e.raw_os_error() == Some(libc::ENOTDIR) || e.raw_os_error() == Some(libc::ELOOP) =>
        {
            return std::fs::remove_file(root)
        }
        Err(e) => return Err(e),
    };
    top.open_up()?;
    let mut moved_up = 0u64;
    // Each pass empties the root up to MAX_HELD levels down and moves deeper subtrees up to
    // it; a pass that moved nothing left the root empty.
    loop {
        let moved = empty(&top, &mut moved_up)?;
        if moved == 0 {
            break;
        }
    }
    drop(top);
    std::fs::remove_dir(root)
}

/// Removes everything below `root`; returns how many subtrees were moved up to it instead.
fn empty(root: &Dir, moved_up: &mut u64) -> io::Result<u64> {
    let mut moved = 0;
    let mut stack: Vec<(Dir, CString)> = Vec::new();
    let mut top = root.reopen()?;
    loop {
        let depth = stack.len();
        let dir = stack.last_mut().map_or(&mut top, |(d, _)| d);
        let Some(name) = dir.next_name() else {
            // Entries removed while reading may hide others from the stream: read it again
            // until it is empty.
            dir.rewind();
            if dir.next_name().is_some() {
                dir.rewind();
                continue;
            }
            let Some((done, name)) = stack.pop() else {
                break;
            };
            drop(done);
            let parent = stack.last().map_or(&top, |(d, _)| d);
            parent.remove(&name, true)?;
            continue;
        };
        let Ok(st) = dir.stat(&name) else { continue };
        if !dirfd::is_dir(&st) {
            match dir.remove(&name, false) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
            continue;
        }
        if depth + 1 >= MAX_HELD {
            *moved_up += 1;
            let to = CString::new(format!(".tw-moved-up-{moved_up}"))
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            // SAFETY: renameat between two directories we hold open.
            if unsafe { libc::renameat(dir.fd(), name.as_ptr(), root.fd(), to.as_ptr()) } != 0 {
                return Err(io::Error::last_os_error());
            }
            moved += 1;
            continue;
        }
        let child = dir.open_child(&name)?;
        child.open_up()?;
        stack.push((child, name));
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn removes_unreadable_and_unwritable_directories() {
        let root = std::env::temp_dir().join(format!("tw-clean-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("a/b/c/f"), "x").unwrap();
        for d in ["a/b/c", "a/b", "a"] {
            std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        remove_tree(&root).unwrap();
        assert!(!root.exists());
    }

    /// A tree far deeper than the walk holds descriptors for, with paths far past PATH_MAX
    /// and unreadable directories on the way, is removed whole.
    #[test]
    fn removes_trees_deeper_than_path_max() {
        let root = std::env::temp_dir().join(format!("tw-clean-deep-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&root).unwrap();
        let mut dir = super::Dir::open(&root).unwrap();
        let name = std::ffi::CString::new("x".repeat(100)).unwrap();
        for i in 0..500 {
            // SAFETY: mkdirat on an open directory.
            assert_eq!(unsafe { libc::mkdirat(dir.fd(), name.as_ptr(), 0o755) }, 0);
            let child = dir.open_child(&name).unwrap();
            if i % 97 == 0 {
                // SAFETY: fchmod on our descriptor.
                unsafe { libc::fchmod(child.fd(), 0) };
            }
            dir = child;
        }
        remove_tree(&root).unwrap();
        assert!(!root.exists());
    }
}
