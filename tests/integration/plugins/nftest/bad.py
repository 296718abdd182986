"""Misbehaving python steps: crashes and blocked syscalls."""
import ctypes
import os


def segfault():
    ctypes.string_at(0)


def unshare():
    """unshare(CLONE_NEWUSER): the namespace group is killed by exec.policy."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare(0x10000000)
    return {"unshare": "returned"}


def ptrace():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace(0, 0, None, None)    # PTRACE_TRACEME
    return {"ptrace": "returned"}


def denied_errno():
    """A syscall outside the allow-list fails with EPERM, not a kill."""
    libc = ctypes.CDLL(None, use_errno=True)
    # syslog(2)'s SYSLOG_ACTION_SIZE_BUFFER: not in the allow-list.
    r = libc.klogctl(10, None, 0)
    return {"rc": r, "errno": os.strerror(ctypes.get_errno())}
