/*
 * runbase_stub.c: the sandboxed stub of the run baseline (bench/runbase.c).
 * Runs as its own process, one per baseline run, never installed.  Linked
 * statically like nomaflow-worker, so both pay the same start-up.
 *
 * It does, in one process, the sandbox work an exec step's program gets:
 * a compiled seccomp program read from fd 3 (as a worker reads nomaflowd's
 * sealed memfd), no_new_privs, the filter installed with a listener for
 * its deny rules, the listener handed over fd 4 with SCM_RIGHTS (as the
 * exec child hands it to the worker), then execve of argv[1].
 *
 * Invariant: any failure exits 127 before the exec, so the baseline counts
 * it as a failed run, never as a fast one.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

int
main(int argc, char *argv[])
{
	struct nf_policy	*p;
	struct stat		 sb;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	}			 u;
	static char		 prog[1 << 20];
	char			 err[256], c = 'L';
	ssize_t			 n;
	int			 lfd = -1;

	if (argc < 2) {
		fprintf(stderr, "usage: runbase-stub program [arg ...] "
		    "(compiled policy on fd 3, listener socket on fd 4)\n");
		return 127;
	}
	if (fstat(3, &sb) == -1 || sb.st_size <= 0 ||
	    (size_t)sb.st_size > sizeof(prog) ||
	    (n = pread(3, prog, (size_t)sb.st_size, 0)) != sb.st_size) {
		fprintf(stderr, "runbase-stub: no compiled policy on fd 3\n");
		return 127;
	}
	if ((p = nf_policy_from_bpf("exec", prog, (size_t)n, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "runbase-stub: fd 3: %s\n", err);
		return 127;
	}
	close(3);
	if (nf_policy_install_listen(p, &lfd) == -1) {
		perror("runbase-stub: seccomp");
		return 127;
	}
	if (lfd != -1) {
		memset(&msg, 0, sizeof(msg));
		memset(&u, 0, sizeof(u));
		iov.iov_base = &c;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &lfd, sizeof(int));
		if (sendmsg(4, &msg, MSG_NOSIGNAL) == -1) {
			perror("runbase-stub: sendmsg");
			return 127;
		}
		close(lfd);
	}
	close(4);
	execv(argv[1], argv + 1);
	perror("runbase-stub: execv");
	return 127;
}
