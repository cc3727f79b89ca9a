//! The Landlock ruleset of a confined child: read-only system paths, writable job paths,
//! TCP ports, and signal / abstract-socket scoping.
//!
//! Landlock only ever *allows*: everything not listed is denied, including other jobs' roots,
//! the worker's home and `/tmp`. The domain also stops the child from `ptrace`-ing (and so
//! from reading `/proc/<pid>/environ`, `mem` or `fd/` of) any process outside it, from the
//! first ABI on.

use std::path::Path;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};

use super::policy::{Network, Policy, SYSTEM_READ, SYSTEM_WRITE};

/// The Landlock ABI version of the running kernel; 0 when Landlock is missing or disabled.
pub fn kernel_abi() -> i32 {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) only returns
    // a number.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    i32::try_from(r).unwrap_or(0).max(0)
}

pub(crate) fn abi_of(version: i32) -> ABI {
    match version {
        i32::MIN..=0 => ABI::Unsupported,
        1 => ABI::V1,
        2 => ABI::V2,
        3 => ABI::V3,
        4 => ABI::V4,
        5 => ABI::V5,
        _ => ABI::V6,
    }
}

/// Builds the ruleset (before `fork`, so that errors are reported plainly). Needs Landlock
/// ABI 1 (Linux 5.13); TCP ports need ABI 4 (6.7); scoping is used from ABI 6 (6.12).
pub fn build(policy: &Policy) -> Result<RulesetCreated, String> {
    let version = kernel_abi();
    if version < 1 {
        return Err("Landlock is not available in this kernel (needs Linux 5.13+ with landlock in the lsm= list)".into());
    }
    // Handle the rights this kernel knows, up to V6 (the newest this code was tested with).
    let abi = abi_of(version);
    let tcp = matches!(policy.network, Network::TcpPorts(_));
    if tcp && version < 4 {
        return Err(format!(
            "allowing TCP ports needs Landlock ABI 4 (Linux 6.7); this kernel has ABI {version}"
        ));
    }
    let err = |what: &str, e: landlock::RulesetError| format!("landlock {what}: {e}");
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(|e| err("filesystem rights", e))?;
    if version >= 4 && policy.network != Network::Any {
        ruleset = ruleset
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
            .map_err(|e| err("network rights", e))?;
    }
    if version >= 6 {
        ruleset = ruleset
            .scope(Scope::Signal | Scope::AbstractUnixSocket)
            .map_err(|e| err("scopes", e))?;
    }
    let mut created = ruleset.create().map_err(|e| err("ruleset", e))?;
    let read = AccessFs::from_read(abi);
    let write = AccessFs::from_all(abi);
    let system_read = SYSTEM_READ.iter().map(Path::new);
    let extra_read = policy.read.iter().map(|p| p.as_path());
    for path in system_read.chain(extra_read) {
        created = add_path(created, path, read, abi)?;
    }
    let system_write = SYSTEM_WRITE.iter().map(Path::new);
    for path in system_write.chain(policy.write.iter().map(|p| p.as_path())) {
        created = add_path(created, path, write, abi)?;
    }
    if let Network::TcpPorts(ports) = &policy.network {
        for port in ports {
            created = created
                .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                .map_err(|e| err("TCP port rule", e))?;
        }
    }
    Ok(created)
}

/// A read-only rule for `path`, added to a ruleset that [`build`] made.
pub fn add_read(created: RulesetCreated, path: &Path) -> Result<RulesetCreated, String> {
    let abi = abi_of(kernel_abi());
    add_path(created, path, AccessFs::from_read(abi), abi)
}

/// One path rule; a path that does not exist is skipped, a file gets only file rights.
pub(crate) fn add_path(
    created: RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
    abi: ABI,
) -> Result<RulesetCreated, String> {
    let fd = match PathFd::new(path) {
        Ok(fd) => fd,
        Err(_) if !path.exists() => return Ok(created),
        Err(e) => return Err(format!("landlock path {}: {e}", path.display())),
    };
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(abi)
    };
    created
        .add_rule(PathBeneath::new(fd, access))
        .map_err(|e| format!("landlock rule for {}: {e}", path.display()))
}
