// SPDX-License-Identifier: Apache-2.0
//
// Out-of-line forwarders for GNU extensions: this file is compiled with _GNU_SOURCE so <sched.h>
// declares them; Swift's Glibc module is not, so it cannot see them (linux-capture-facts.md §1).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include "CPeregrineLinux.h"

int CPeregrineLinux_sched_setaffinity(pid_t pid, size_t size, const void *mask) {
    return sched_setaffinity(pid, size, (const cpu_set_t *)mask);
}

int CPeregrineLinux_sched_getaffinity(pid_t pid, size_t size, void *mask) {
    // The raw system call returns the number of bytes written; glibc's wrapper returns 0 and zeroes the
    // rest of the caller's mask, which is what callers here want.
    return sched_getaffinity(pid, size, (cpu_set_t *)mask);
}

int CPeregrineLinux_setThreadName(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int CPeregrineLinux_setns(int fd, int nstype) {
    return setns(fd, nstype);
}
