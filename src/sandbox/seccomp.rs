//! The system-call filter of a confined child (seccomp-bpf, built with `seccompiler`).
//!
//! Allow by default, deny a list with `EPERM`: what a test runner never needs and an attacker
//! wants. Landlock covers files; this covers what Landlock does not:
//! * sockets: none at all without network (UDP, raw, netlink and Unix sockets included;
//!   `socketpair` still works), or only TCP over IPv4/IPv6 when ports are allowed (Landlock
//!   then restricts the ports);
//! * reading or changing other processes: `ptrace`, `process_vm_readv`/`writev`, `kcmp`,
//!   `pidfd_getfd`; signals to the protected pids (the worker, the supervisor) for kernels
//!   without Landlock signal scoping;
//! * state that outlives the job or is shared between jobs: SysV message queues, semaphores
//!   and shared memory, POSIX message queues, keyrings;
//! * kernel attack surface: `bpf`, `perf_event_open`, `userfaultfd`, io_uring (which could
//!   also open sockets without `socket(2)`), mounts and namespaces, modules.
//!
//! A second, tiny filter answers `clone3` with `ENOSYS` (so libc falls back to `clone`, whose
//! flags the first filter can see) and refuses x32 system calls (numbers with bit 30 set),
//! which would otherwise not match the x86-64 numbers of the first filter.

use std::collections::BTreeMap;

use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op,
    SeccompCondition as Cond, SeccompFilter, SeccompRule, TargetArch,
};

use super::policy::{Network, Policy};

/// The three filters, in the order they are installed.
pub struct Filters {
    pub main: BpfProgram,
    pub compat: BpfProgram,
    /// `fallocate` answers `EOPNOTSUPP`: it reserves gigabytes in microseconds, faster than
    /// any measurement of the job root; `posix_fallocate` then falls back to writing, which
    /// `RLIMIT_FSIZE` and the disk measurement see.
    pub no_fallocate: BpfProgram,
}

fn arch() -> Result<TargetArch, String> {
    std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("seccomp: unsupported architecture: {e:?}"))
}

fn cond(arg: u8, len: Len, op: Op, value: u64) -> Result<Cond, String> {
    Cond::new(arg, len, op, value).map_err(|e| format!("seccomp condition: {e}"))
}

fn rule(conds: Vec<Cond>) -> Result<SeccompRule, String> {
    SeccompRule::new(conds).map_err(|e| format!("seccomp rule: {e}"))
}

/// Syscalls refused whatever their arguments.
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kcmp,
    libc::SYS_pidfd_getfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fsconfig,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_msgget,
    libc::SYS_semget,
    libc::SYS_shmget,
    libc::SYS_mq_open,
    libc::SYS_kexec_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_fanotify_init,
    libc::SYS_name_to_handle_at,
    libc::SYS_open_by_handle_at,
];

/// Namespace flags of `clone(2)`: refused (a new user namespace is attack surface).
const CLONE_NS_FLAGS: &[i32] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

pub fn build(policy: &Policy, supervisor_pid: i32) -> Result<Filters, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in DENIED {
        rules.insert(*nr, Vec::new());
    }
    let clone_rules = CLONE_NS_FLAGS
        .iter()
        .map(|f| {
            let f = *f as u64;
            rule(vec![cond(0, Len::Qword, Op::MaskedEq(f), f)?])
        })
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(libc::SYS_clone, clone_rules);
    match &policy.network {
        Network::Any => {}
        Network::None => {
            rules.insert(libc::SYS_socket, Vec::new());
        }
        Network::TcpPorts(_) => {
            rules.insert(libc::SYS_socket, tcp_only_rules()?);
        }
    }
    // In its own PID namespace a run cannot even name a process outside it; the pid numbers
    // below would there mean processes of the job itself.
    if policy.isolation.is_none() {
        signal_rules(&mut rules, policy, supervisor_pid)?;
    }
    let main = compile(rules, libc::EPERM)?;
    let mut compat_rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    compat_rules.insert(libc::SYS_clone3, Vec::new());
    let mut compat = x32_guard();
    compat.extend(compile(compat_rules, libc::ENOSYS)?);
    let mut falloc_rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    falloc_rules.insert(libc::SYS_fallocate, Vec::new());
    let no_fallocate = compile(falloc_rules, libc::EOPNOTSUPP)?;
    Ok(Filters {
        main,
        compat,
        no_fallocate,
    })
}

/// Allow by default; the listed calls fail with `errno`.
fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: i32) -> Result<BpfProgram, String> {
    SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        arch()?,
    )
    .and_then(TryInto::try_into)
    .map_err(|e| format!("seccomp filter: {e}"))
}

/// `socket(2)` is refused unless it asks for TCP over IPv4 or IPv6 (protocol 0 or
/// `IPPROTO_TCP`, so no SCTP or MPTCP that Landlock's TCP rules would not see).
fn tcp_only_rules() -> Result<Vec<SeccompRule>, String> {
    let inet = libc::AF_INET as u64;
    let inet6 = libc::AF_INET6 as u64;
    let mut out = vec![
        rule(vec![
            cond(0, Len::Dword, Op::Ne, inet)?,
            cond(0, Len::Dword, Op::Ne, inet6)?,
        ])?,
        rule(vec![
            cond(2, Len::Dword, Op::Ne, 0)?,
            cond(2, Len::Dword, Op::Ne, libc::IPPROTO_TCP as u64)?,
        ])?,
    ];
    // The type's low bits; SOCK_NONBLOCK / SOCK_CLOEXEC sit above them.
    for t in [
        libc::SOCK_DGRAM,
        libc::SOCK_RAW,
        libc::SOCK_RDM,
        libc::SOCK_SEQPACKET,
        6,  // SOCK_DCCP
        10, // SOCK_PACKET
    ] {
        out.push(rule(vec![cond(
            1,
            Len::Dword,
            Op::MaskedEq(0xf),
            t as u64,
        )?])?);
    }
    Ok(out)
}

/// No signal to a protected pid, its process group, or to every process (`kill(-1)`).
fn signal_rules(
    rules: &mut BTreeMap<i64, Vec<SeccompRule>>,
    policy: &Policy,
    supervisor_pid: i32,
) -> Result<(), String> {
    let mut pids: Vec<i32> = policy.protected_pids.clone();
    pids.push(supervisor_pid);
    pids.retain(|p| *p > 1);
    let dword = |v: i32| v as u32 as u64;
    let mut kill = vec![rule(vec![cond(0, Len::Dword, Op::Eq, dword(-1))?])?];
    let mut first_arg = Vec::new();
    for pid in &pids {
        kill.push(rule(vec![cond(0, Len::Dword, Op::Eq, dword(*pid))?])?);
        kill.push(rule(vec![cond(0, Len::Dword, Op::Eq, dword(-*pid))?])?);
        first_arg.push(rule(vec![cond(0, Len::Dword, Op::Eq, dword(*pid))?])?);
    }
    rules.insert(libc::SYS_kill, kill);
    for nr in [
        libc::SYS_tkill,
        libc::SYS_tgkill,
        libc::SYS_rt_sigqueueinfo,
        libc::SYS_rt_tgsigqueueinfo,
        libc::SYS_pidfd_open,
    ] {
        if !first_arg.is_empty() {
            rules.insert(nr, first_arg.clone());
        }
    }
    Ok(())
}

/// `if (nr >= 0x40000000) return ERRNO(ENOSYS);` ahead of the compat filter.
fn x32_guard() -> BpfProgram {
    const BPF_LD_W_ABS: u16 = 0x20;
    const BPF_JMP_JGE_K: u16 = 0x35;
    const BPF_RET_K: u16 = 0x06;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    vec![
        // seccomp_data.nr is at offset 0.
        sock_filter {
            code: BPF_LD_W_ABS,
            jt: 0,
            jf: 0,
            k: 0,
        },
        sock_filter {
            code: BPF_JMP_JGE_K,
            jt: 0,
            jf: 1,
            k: 0x4000_0000,
        },
        sock_filter {
            code: BPF_RET_K,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(network: Network) -> Policy {
        Policy {
            argv: vec!["/bin/true".into()],
            cwd: "/".into(),
            root: "/tmp".into(),
            read: vec![],
            write: vec![],
            network,
            limits: Default::default(),
            timeout_ms: 1000,
            grace_ms: 100,
            protected_pids: vec![1234],
            isolation: None,
        }
    }

    #[test]
    fn filters_build_for_every_network_mode() {
        for n in [Network::None, Network::TcpPorts(vec![80]), Network::Any] {
            let f = build(&policy(n), 99).unwrap();
            assert!(f.main.len() > DENIED.len());
            assert_eq!(f.compat[1].k, 0x4000_0000);
        }
    }
}
