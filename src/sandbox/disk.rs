//! Disk use of a job root: bytes allocated and entries, without following symbolic links.
//!
//! Unprivileged code cannot get a per-directory quota, so the supervisor measures the root
//! a few times a second and ends the run once a cap is passed. A directory the job made
//! unreadable (`chmod 000`) is given back its owner's rights first: the job cannot hide
//! bytes from the count that way.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::dirfd::{self, Dir};

/// Directories nested deeper than this below the root end the run (R7, `disk`): no course
/// needs them, and the walk holds one descriptor per level.
pub const MAX_DEPTH: usize = 200;

/// What was counted, and whether a cap stopped the count early.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DiskUse {
    pub bytes: u64,
    pub entries: u64,
    /// The largest regular file's length.
    pub largest_file: u64,
    /// A directory deeper than [`MAX_DEPTH`] was found (the count stopped there).
    pub too_deep: bool,
}

/// Measures `root`, stopping as soon as `max_bytes` or `max_entries` is exceeded. Walks by
/// descriptor, so paths longer than `PATH_MAX` are counted too.
pub fn measure(root: &Path, max_bytes: u64, max_entries: u64) -> DiskUse {
    let mut used = DiskUse::default();
    let Ok(top) = Dir::open(root) else {
        return used;
    };
    let mut stack = vec![top];
    loop {
        let depth = stack.len();
        let Some(dir) = stack.last_mut() else { break };
        let Some(name) = dir.next_name() else {
            stack.pop();
            continue;
        };
        let Ok(st) = dir.stat(&name) else { continue };
        used.entries += 1;
        used.bytes += st.st_blocks as u64 * 512;
        if dirfd::is_file(&st) {
            used.largest_file = used.largest_file.max(st.st_size as u64);
        }
        if used.bytes > max_bytes || used.entries > max_entries {
            return used;
        }
        if dirfd::is_dir(&st) {
            if depth >= MAX_DEPTH {
                used.too_deep = true;
                return used;
            }
            if let Ok(child) = dir.open_child(&name) {
                stack.push(child);
            }
        }
    }
    used
}

/// `chmod u+rwx` on a directory (never through a symbolic link).
pub fn restore_owner_rights(dir: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Ok(());
    }
    let mode = meta.permissions().mode() | 0o700;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_and_entries_and_stops_at_the_cap() {
        let root = std::env::temp_dir().join(format!("tw-disk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), vec![1u8; 100_000]).unwrap();
        std::os::unix::fs::symlink("/usr", root.join("link")).unwrap();
        let used = measure(&root, u64::MAX, u64::MAX);
        assert_eq!(used.entries, 4);
        assert_eq!(used.largest_file, 100_000);
        assert!(used.bytes >= 100_000, "{used:?}");
        assert!(measure(&root, 10, u64::MAX).bytes > 10);
        assert_eq!(measure(&root, u64::MAX, 1).entries, 2);
        // Unreadable directories are opened up and counted.
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o000)).unwrap();
        assert_eq!(measure(&root, u64::MAX, u64::MAX).entries, 4);
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Bytes below a path longer than PATH_MAX are counted; a tree deeper than the cap is
    /// reported as such.
    #[test]
    fn deep_paths_are_counted_and_too_deep_trees_found() {
        let root = std::env::temp_dir().join(format!("tw-disk-deep-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&root).unwrap();
        let name = "d".repeat(200);
        let mut dir = Dir::open(&root).unwrap();
        for _ in 0..30 {
            let c = std::ffi::CString::new(name.clone()).unwrap();
            // SAFETY: mkdirat on an open directory.
            assert_eq!(unsafe { libc::mkdirat(dir.fd(), c.as_ptr(), 0o755) }, 0);
            dir = dir.open_child(&c).unwrap();
        }
        // 30 * 201 bytes: past PATH_MAX (4096).
        let f = std::ffi::CString::new("big").unwrap();
        // SAFETY: openat/write/close on descriptors we own.
        unsafe {
            let fd = libc::openat(dir.fd(), f.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o644);
            assert!(fd >= 0);
            let buf = vec![7u8; 1 << 20];
            assert_eq!(libc::write(fd, buf.as_ptr().cast(), buf.len()), 1 << 20);
            libc::close(fd);
        }
        let used = measure(&root, u64::MAX, u64::MAX);
        assert!(used.bytes >= 1 << 20, "{used:?}");
        assert_eq!(used.largest_file, 1 << 20);
        assert!(!used.too_deep);
        for _ in 30..=MAX_DEPTH {
            let c = std::ffi::CString::new("e").unwrap();
            // SAFETY: as above.
            assert_eq!(unsafe { libc::mkdirat(dir.fd(), c.as_ptr(), 0o755) }, 0);
            dir = dir.open_child(&c).unwrap();
        }
        assert!(measure(&root, u64::MAX, u64::MAX).too_deep);
        rq_worker::fs::remove_tree(&root).unwrap();
        assert!(!root.exists());
    }
}
