/*
 * try-syscall.c: makes one system call that the deny matrix
 * (policies/deny.policy) forbids, named by argv[1], with arguments that
 * are harmless should the filter let it through (missing paths, NULL
 * buffers, an invalid descriptor).  For tests/integration/deny.sh, which
 * runs it as an exec step and expects the step to fail with reason
 * "sandbox" naming the call.
 *
 * Prints "returned NAME: errno" and exits 0 when the call comes back, so
 * a call that was not stopped reads as a passing step, never as a
 * sandbox failure.  Exits 2 on an unknown name.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/netlink.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static long
try(const char *name)
{
	if (strcmp(name, "ptrace") == 0)
		return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
	if (strcmp(name, "process_vm_readv") == 0)
		return syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL,
		    0, 0);
	if (strcmp(name, "process_vm_writev") == 0)
		return syscall(SYS_process_vm_writev, getppid(), NULL, 0, NULL,
		    0, 0);
	if (strcmp(name, "bpf") == 0)
		return syscall(SYS_bpf, 0, NULL, 0);
	if (strcmp(name, "perf_event_open") == 0)
		return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
	if (strcmp(name, "keyctl") == 0)
		return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -1,
		    0);
	if (strcmp(name, "add_key") == 0)
		return syscall(SYS_add_key, "user", "nomaflow-test", "x", 1,
		    -2 /* KEY_SPEC_PROCESS_KEYRING */);
	if (strcmp(name, "mount") == 0)
		return syscall(SYS_mount, "none", "/nonexistent/nomaflow",
		    "tmpfs", 0, NULL);
	if (strcmp(name, "umount2") == 0)
		return syscall(SYS_umount2, "/nonexistent/nomaflow", 0);
	if (strcmp(name, "pivot_root") == 0)
		return syscall(SYS_pivot_root, "/nonexistent/a",
		    "/nonexistent/b");
	if (strcmp(name, "kexec_load") == 0)
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (strcmp(name, "kexec_file_load") == 0)
		return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0);
	if (strcmp(name, "init_module") == 0)
		return syscall(SYS_init_module, NULL, 0, "");
	if (strcmp(name, "finit_module") == 0)
		return syscall(SYS_finit_module, -1, "", 0);
	if (strcmp(name, "delete_module") == 0)
		return syscall(SYS_delete_module, "nomaflow_nonexistent", 0);
	if (strcmp(name, "io_uring_setup") == 0)
		return syscall(SYS_io_uring_setup, 1, NULL);
	if (strcmp(name, "io_uring_enter") == 0)
		return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
	if (strcmp(name, "io_uring_register") == 0)
		return syscall(SYS_io_uring_register, -1, 0, NULL, 0);
	if (strcmp(name, "userfaultfd") == 0)
		return syscall(SYS_userfaultfd, 0);
	if (strcmp(name, "unshare") == 0)
		return syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
	if (strcmp(name, "setns") == 0)
		return syscall(SYS_setns, -1, 0);
	if (strcmp(name, "open_by_handle_at") == 0)
		return syscall(SYS_open_by_handle_at, -1, NULL, 0);
	if (strcmp(name, "packet") == 0)
		return socket(AF_PACKET, SOCK_RAW, 0);
	if (strcmp(name, "packet-dgram") == 0)
		return socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (strcmp(name, "raw") == 0)
		return socket(AF_INET, SOCK_RAW, 1 /* IPPROTO_ICMP */);
	if (strcmp(name, "raw6") == 0)
		return socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, 58);
	/* The kernel reads an int: high bits must not slip past the filter. */
	if (strcmp(name, "packet-hiword") == 0)
		return syscall(SYS_socket, (1ULL << 32) | AF_PACKET,
		    SOCK_RAW, 0);
	if (strcmp(name, "netlink-xfrm") == 0)
		return socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM);
	if (strcmp(name, "netlink-netfilter") == 0)
		return socket(AF_NETLINK, SOCK_DGRAM, NETLINK_NETFILTER);
	if (strcmp(name, "alg") == 0)
		return socket(AF_ALG, SOCK_SEQPACKET, 0);
	if (strcmp(name, "vsock") == 0)
		return socket(AF_VSOCK, SOCK_STREAM, 0);
	/* Allowed: a step may use TCP and the routing netlink (getaddrinfo). */
	if (strcmp(name, "inet") == 0)
		return socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(name, "netlink-route") == 0)
		return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	errno = EINVAL;
	return -2;
}

int
main(int argc, char **argv)
{
	long	rc;

	if (argc != 2) {
		fprintf(stderr, "usage: try-syscall NAME\n");
		return 2;
	}
	rc = try(argv[1]);
	if (rc == -2) {
		fprintf(stderr, "try-syscall: unknown call %s\n", argv[1]);
		return 2;
	}
	printf("returned %s: %ld %s\n", argv[1], rc,
	    rc < 0 ? strerror(errno) : "ok");
	return 0;
}
