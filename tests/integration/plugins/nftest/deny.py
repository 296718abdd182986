"""System calls of the deny matrix (policies/deny.policy), from python.

tests/integration/deny.sh runs each as a python step and expects reason
"sandbox" with the call named.  Should a call come back (the filter let it
through), the step returns what it got and succeeds: a test failure, never
a false "sandbox".
"""
import ctypes
import os
import platform
import socket

# Calls glibc has no wrapper for, by number.
_NR = {
    "x86_64": {"bpf": 321, "perf_event_open": 298, "keyctl": 250,
               "kexec_load": 246, "init_module": 175,
               "io_uring_setup": 425, "userfaultfd": 323},
    "aarch64": {"bpf": 280, "perf_event_open": 241, "keyctl": 219,
                "kexec_load": 104, "init_module": 105,
                "io_uring_setup": 425, "userfaultfd": 282},
}


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _raw(name, *args):
    nr = _NR[platform.machine()][name]
    return _libc().syscall(nr, *args)


def call(name):
    libc = _libc()
    if name == "packet":
        r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    elif name == "raw":
        r = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_ICMP)
    elif name == "netlink-xfrm":
        r = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 6)
    elif name == "ptrace":
        r = libc.ptrace(0, 0, None, None)
    elif name == "mount":
        r = libc.mount(b"none", b"/nonexistent/nomaflow", b"tmpfs", 0, None)
    elif name == "umount2":
        r = libc.umount2(b"/nonexistent/nomaflow", 0)
    elif name == "unshare":
        r = libc.unshare(0x10000000)
    elif name == "process_vm_readv":
        r = libc.process_vm_readv(os.getppid(), None, 0, None, 0, 0)
    elif name == "bpf":
        r = _raw(name, 0, None, 0)
    elif name == "perf_event_open":
        r = _raw(name, None, 0, -1, -1, 0)
    elif name == "keyctl":
        r = _raw(name, 0, -1, 0)
    elif name == "kexec_load":
        r = _raw(name, 0, 0, None, 0)
    elif name == "init_module":
        r = _raw(name, None, 0, b"")
    elif name == "io_uring_setup":
        r = _raw(name, 1, None)
    elif name == "userfaultfd":
        r = _raw(name, 0)
    else:
        raise ValueError("unknown call " + name)
    return {"returned": str(r), "errno": os.strerror(ctypes.get_errno())}


def tcp():
    """Allowed: an ordinary socket still works under the deny matrix."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.close()
    return {"tcp": "ok"}
