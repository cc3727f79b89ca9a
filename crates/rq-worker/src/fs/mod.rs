//! Directory trees by descriptor: walk and remove what a job wrote, at any depth and whatever
//! modes it left, without following a symlink it planted (the scratch directory's removal,
//! and the sandbox's measurements in the binary).

pub mod cleanup;
pub mod dirfd;

pub use cleanup::remove_tree;
