/*
 * fault.h: crash-injection points for the reliability harness
 * (tests/crash/).  A build configured with --enable-fault-injection
 * defines NF_FAULTS; NF_FAULT("name") then asks fault.c whether the
 * environment armed that point:
 *
 *   NOMAFLOW_FAULT=name:kill      SIGKILL ourselves at the first hit
 *   NOMAFLOW_FAULT=name:kill:N    ... at the Nth hit
 *
 * In other builds NF_FAULT() compiles to nothing.
 */
#ifndef NF_FAULT_H
#define NF_FAULT_H

#ifdef NF_FAULTS
void	nf_fault_hit(const char *point);
#define NF_FAULT(point)	nf_fault_hit(point)
#else
#define NF_FAULT(point)	((void)0)
#endif

#endif
