//! Directories walked by descriptor, never by path: the job root's measurement and removal
//! must reach entries below paths longer than `PATH_MAX`, and never follow a symbolic link a
//! job swapped in for a directory.

use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// An open directory stream (`fdopendir`), closed on drop.
pub struct Dir {
    stream: *mut libc::DIR,
    fd: RawFd,
}

fn last_err() -> io::Error {
    io::Error::last_os_error()
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

const DIR_FLAGS: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

impl Dir {
    /// Opens `path` (its last component must not be a link).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = c_name(path.as_os_str())?;
        // SAFETY: open with a NUL-terminated path.
        let fd = unsafe { libc::open(c.as_ptr(), DIR_FLAGS) };
        Dir::from_fd(fd)
    }

    /// Opens the directory `name` in this one; a directory without read or search rights
    /// gets `u+rwx` first (the job may have taken them; it cannot take the owner's right to
    /// give them back).
    pub fn open_child(&self, name: &CStr) -> io::Result<Dir> {
        // SAFETY: openat on our descriptor with a NUL-terminated name.
        let fd = unsafe { libc::openat(self.fd, name.as_ptr(), DIR_FLAGS) };
        if fd < 0 && last_err().raw_os_error() == Some(libc::EACCES) {
            self.open_up_child(name)?;
            // SAFETY: as above.
            let fd = unsafe { libc::openat(self.fd, name.as_ptr(), DIR_FLAGS) };
            return Dir::from_fd(fd);
        }
        Dir::from_fd(fd)
    }

    /// A second stream on the same directory, from its first entry.
    pub(crate) fn reopen(&self) -> io::Result<Dir> {
        // SAFETY: openat of "." on our descriptor.
        let fd = unsafe { libc::openat(self.fd, c".".as_ptr(), DIR_FLAGS) };
        Dir::from_fd(fd)
    }

    fn from_fd(fd: RawFd) -> io::Result<Dir> {
        if fd < 0 {
            return Err(last_err());
        }
        // SAFETY: fdopendir takes ownership of a valid directory descriptor.
        let stream = unsafe { libc::fdopendir(fd) };
        if stream.is_null() {
            let e = last_err();
            // SAFETY: closing the descriptor fdopendir did not take.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Ok(Dir { stream, fd })
    }

    /// The directory's descriptor (owned by this stream).
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// The next entry's name, `.` and `..` skipped.
    pub fn next_name(&mut self) -> Option<CString> {
        loop {
            // SAFETY: readdir on our open stream; the entry is copied before the next call.
            let ent = unsafe { libc::readdir(self.stream) };
            if ent.is_null() {
                return None;
            }
            // SAFETY: d_name is NUL-terminated within the entry.
            let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
            let b = name.to_bytes();
            if b == b"." || b == b".." {
                continue;
            }
            return Some(name.to_owned());
        }
    }

    /// Starts the stream again from the first entry.
    pub(crate) fn rewind(&mut self) {
        // SAFETY: rewinddir on our open stream.
        unsafe { libc::rewinddir(self.stream) };
    }

    /// `lstat` of an entry.
    pub fn stat(&self, name: &CStr) -> io::Result<libc::stat> {
        // SAFETY: fstatat into a zeroed struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r =
            unsafe { libc::fstatat(self.fd, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
        if r != 0 {
            return Err(last_err());
        }
        Ok(st)
    }

    /// `u+rwx` on this directory itself.
    pub(crate) fn open_up(&self) -> io::Result<()> {
        // SAFETY: fstat/fchmod on our descriptor.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(self.fd, &mut st) } != 0 {
            return Err(last_err());
        }
        if st.st_mode & 0o700 == 0o700 {
            return Ok(());
        }
        if unsafe { libc::fchmod(self.fd, (st.st_mode & 0o7777) | 0o700) } != 0 {
            return Err(last_err());
        }
        Ok(())
    }

    /// `u+rwx` on the directory `name` in this one, through an `O_PATH` descriptor so that a
    /// link put in its place is never followed.
    fn open_up_child(&self, name: &CStr) -> io::Result<()> {
        // SAFETY: openat with O_PATH on our descriptor.
        let fd = unsafe {
            libc::openat(
                self.fd,
                name.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(last_err());
        }
        let via = CString::new(format!("/proc/self/fd/{fd}"))
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
        let result = via.and_then(|via| {
            // SAFETY: stat/chmod of the magic link to our O_PATH descriptor.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            if unsafe { libc::fstat(fd, &mut st) } != 0 {
                return Err(last_err());
            }
            if unsafe { libc::chmod(via.as_ptr(), (st.st_mode & 0o7777) | 0o700) } != 0 {
                return Err(last_err());
            }
            Ok(())
        });
        // SAFETY: closing our descriptor.
        unsafe { libc::close(fd) };
        result
    }

    /// Removes the entry `name` (a directory with `dir`).
    pub(crate) fn remove(&self, name: &CStr, dir: bool) -> io::Result<()> {
        let flags = if dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: unlinkat on our descriptor.
        if unsafe { libc::unlinkat(self.fd, name.as_ptr(), flags) } != 0 {
            return Err(last_err());
        }
        Ok(())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: closing the stream we opened (and with it its descriptor).
        unsafe { libc::closedir(self.stream) };
    }
}

/// Whether `st` is a directory.
pub fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// Whether `st` is a regular file.
pub fn is_file(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFREG
}
