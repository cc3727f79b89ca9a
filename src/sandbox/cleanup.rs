//! Removing a job root whatever the job did to its permissions.
//!
//! The job runs as the worker's uid, so it owns everything it made and cannot take the
//! worker's rights away; but a `chmod 000` directory makes a plain recursive delete fail.
//! On a permission error every directory gets `u+rwx` back (symbolic links are never
//! followed), and the delete is tried again.

use std::path::Path;

use super::disk::restore_owner_rights;

pub fn remove_tree(root: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(root) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            open_up(root);
            std::fs::remove_dir_all(root)
        }
        other => other,
    }
}

fn open_up(dir: &Path) {
    if restore_owner_rights(dir).is_err() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            open_up(&entry.path());
        }
    }
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
}
