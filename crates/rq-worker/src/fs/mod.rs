//! Directory trees by descriptor: walk ([`dirfd`]) and remove ([`remove_tree`]) what a job
//! wrote, at any depth and whatever modes it left, without following a symlink it planted.
//! The scratch directory's removal uses them, and so may an application that measures or
//! cleans up what its jobs wrote.

mod cleanup;
pub mod dirfd;

pub use cleanup::remove_tree;
