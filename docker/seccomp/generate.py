#!/usr/bin/env python3
"""Writes docker/seccomp/task-worker.json, the seccomp profile of the worker's containers.

Why a profile of our own: Docker's default profile refuses `unshare` and `mount` to a
container without CAP_SYS_ADMIN, so the sandbox could not give each job its own user, mount,
PID and IPC namespaces (a private /tmp, limits per job; docs/security.md). This profile is an
allowlist like Docker's: every system call of the architecture that a container may need is
allowed, unknown ones (newer than this list) fail with EPERM, and the calls below stay
refused, as Docker's default refuses them. The difference: `unshare`, `mount`, `umount2` and
`clone`/`clone3` with namespace flags are allowed. They only act inside a user namespace
the process made itself (the container has no capability in its own), and the sandbox's
own filter refuses them again to everything it runs.

Usage: docker/seccomp/generate.py [UNISTD_64_H] > docker/seccomp/task-worker.json
(default: the x86-64 table of the system's kernel headers). tests/deploy checks that the
committed file is what this script writes.
"""
import json
import re
import sys

# Refused as Docker's default refuses them (kernel state, other processes' memory maps,
# time, modules, keys, tracing, mount namespaces' handles, ...).
DENIED = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
    "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages",
    "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
    "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "query_module",
    "quotactl", "quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns",
    "settimeofday", "swapoff", "swapon", "syslog", "sysfs", "_sysctl", "uselib",
    "userfaultfd", "ustat", "vhangup", "vm86", "vm86old", "afs_syscall", "tuxcall",
    "security", "putpmsg", "getpmsg", "create_module", "nfsservctl", "lsm_set_self_attr",
}


def syscalls(header: str) -> list[str]:
    names = re.findall(r"#define __NR_(\w+)\s+\d+", open(header).read())
    return sorted(set(names) - DENIED)


def main() -> None:
    header = sys.argv[1] if len(sys.argv) > 1 else "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
        ],
        "syscalls": [
            {
                "names": syscalls(header),
                "action": "SCMP_ACT_ALLOW",
                "comment": "task-worker: every system call of the architecture but those "
                           "refused below (docker/seccomp/generate.py)",
            },
            {
                "names": sorted(DENIED),
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 1,
                "comment": "refused, as Docker's default profile refuses them",
            },
        ],
    }
    json.dump(profile, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
