#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""sandbox.py UNIT [--drop-family AF_X] -- CMD...: run CMD under the parts of UNIT's sandbox that the
kernel can apply without systemd as PID 1, read from the unit itself:

  NoNewPrivileges=yes         prctl(PR_SET_NO_NEW_PRIVS)
  MemoryDenyWriteExecute=yes  prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN): the kernel's own form of the
                              rule systemd enforces with seccomp (no mapping both writable and executable)
  SystemCallFilter=           a seccomp allow list: the groups expanded by `systemd-analyze syscall-filter`,
                              plus @default as systemd adds it to every allow list; native calls only
                              (SystemCallArchitectures=native); others fail with SystemCallErrorNumber=
  RestrictAddressFamilies=    socket() allowed only for the listed families (EPERM instead of systemd's
                              EAFNOSUPPORT for the others)

Capabilities and the user come from setpriv around it (systemd/tests/run.sh). --drop-family removes a
family from the allowed list, for the negative control. Needs Debian's python3-seccomp.
"""
import ctypes
import errno
import os
import socket
import subprocess
import sys

import seccomp

PR_SET_NO_NEW_PRIVS = 38
PR_SET_MDWE = 65  # linux/prctl.h, kernel 6.3+
PR_MDWE_REFUSE_EXEC_GAIN = 1
# Families by name; AF_XDP (44, linux/socket.h) is missing from Python's socket module.
FAMILIES = {"AF_UNIX": socket.AF_UNIX, "AF_INET": socket.AF_INET, "AF_INET6": socket.AF_INET6,
            "AF_NETLINK": socket.AF_NETLINK, "AF_PACKET": socket.AF_PACKET, "AF_XDP": 44}


def directives(path):
    """(key, value) for every directive of the unit, in order."""
    with open(path) as unit:
        for line in unit:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                key, value = line.split("=", 1)
                yield key.strip(), value.strip()


def expand(item, seen):
    """The system calls of a name or @group (recursively), as systemd-analyze lists them."""
    if not item.startswith("@"):
        return {item}
    if item in seen:
        return set()
    seen.add(item)
    listing = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", item],
                             check=True, capture_output=True, text=True).stdout
    calls = set()
    for line in listing.splitlines()[1:]:
        name = line.strip()
        if name and not name.startswith("#"):
            calls |= expand(name, seen)
    return calls


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 3:
        sys.exit(__doc__)
    split = args.index("--")
    unit, options, command = args[0], args[1:split], args[split + 1:]
    dropped = set(options[1::2]) if options[:1] == ["--drop-family"] else set()

    settings = list(directives(unit))
    value = {key: v for key, v in settings}
    libc = ctypes.CDLL(None, use_errno=True)
    if value.get("NoNewPrivileges") == "yes" and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        sys.exit(f"sandbox.py: PR_SET_NO_NEW_PRIVS: errno {ctypes.get_errno()}")
    if value.get("MemoryDenyWriteExecute") == "yes" and libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        sys.exit(f"sandbox.py: PR_SET_MDWE: errno {ctypes.get_errno()}")

    filters = [v for key, v in settings if key == "SystemCallFilter"]
    if filters:
        if filters[0].startswith("~"):
            sys.exit("sandbox.py: only allow lists (a first SystemCallFilter= without ~) are emulated")
        allowed, seen = expand("@default", set()), set()
        for line in filters:
            deny = line.startswith("~")
            names = set()
            for item in line.lstrip("~").split():
                names |= expand(item, seen)
            allowed = allowed - names if deny else allowed | names
        code = getattr(errno, value.get("SystemCallErrorNumber", "EPERM"))
        rules = seccomp.SyscallFilter(seccomp.ERRNO(code))
        families = [f for f in value.get("RestrictAddressFamilies", "").split() if f not in dropped]
        for name in sorted(allowed):
            try:
                number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
            except (ValueError, RuntimeError):
                continue  # unknown to libseccomp (systemd skips those too)
            if number < 0:
                continue  # a call of other architectures only (libseccomp's negative pseudo numbers)
            if name == "socket" and families:
                for family in families:
                    rules.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, FAMILIES[family]))
            else:
                rules.add_rule(seccomp.ALLOW, name)
        rules.load()
    os.execvp(command[0], command)


main()
