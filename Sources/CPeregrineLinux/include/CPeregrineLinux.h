// SPDX-License-Identifier: Apache-2.0
//
// CPeregrineLinux: the Linux kernel ABI that Swift's Glibc module does not bring in, and small inline
// shims for what Swift cannot import (linux-capture-facts.md §1). No logic lives here.
//
// - UAPI headers: <linux/if_packet.h> (TPACKET_V3 ring, fanout, statistics), <linux/if_ether.h>
//   (ETH_P_ALL), <linux/filter.h> (struct sock_filter / sock_fprog for SO_ATTACH_FILTER),
//   <linux/if_arp.h> (ARPHRD_* hardware types), <linux/ethtool.h> + <linux/sockios.h> (ETHTOOL_GCHANNELS
//   through SIOCETHTOOL: a device's receive queues).
// - Function-like and sizeof macros (TPACKET_ALIGN, TPACKET3_HDRLEN) become inline functions.
// - Acquire/release access to the kernel-shared `block_status` word: the standard library has no
//   atomics on arbitrary memory, so these inline into Swift as plain loads/stores with the right
//   ordering (x86: a compiler barrier; other targets: the matching fence).
// - `ioctl` is variadic, which Swift does not import.
// - GNU extensions (`sched_setaffinity`, `sched_getaffinity`, `setns`, `pthread_setname_np`) are hidden from Swift because its
//   Glibc module is built without _GNU_SOURCE; CPeregrineLinux.c defines it and forwards to them.
#ifndef C_PEREGRINE_LINUX_H
#define C_PEREGRINE_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/filter.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

/// TPACKET_ALIGN(x): rounds `x` up to TPACKET_ALIGNMENT (16).
static inline unsigned int CPeregrineLinux_tpacketAlign(unsigned int x) {
    return TPACKET_ALIGN(x);
}

/// TPACKET3_HDRLEN: the aligned tpacket3_hdr plus the sockaddr_ll the kernel writes after it (68).
static inline unsigned int CPeregrineLinux_tpacket3HeaderLength(void) {
    return TPACKET3_HDRLEN;
}

/// Loads a 32-bit word shared with the kernel with acquire ordering (reads of the block that follow
/// cannot move before it).
static inline uint32_t CPeregrineLinux_loadAcquire32(const uint32_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

/// Stores a 32-bit word shared with the kernel with release ordering (reads and writes of the block
/// before it cannot move after it).
static inline void CPeregrineLinux_storeRelease32(uint32_t *word, uint32_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

/// ioctl(fd, request, argument) for the requests that take a pointer (SIOCGIFMTU, SIOCGIFHWADDR ...).
static inline int CPeregrineLinux_ioctl(int fd, unsigned long request, void *argument) {
    return ioctl(fd, request, argument);
}

/// sched_setaffinity(pid, size, mask); pid 0 is the calling thread. `mask` is a cpu_set_t-shaped bitmap.
int CPeregrineLinux_sched_setaffinity(pid_t pid, size_t size, const void *mask);

/// sched_getaffinity(pid, size, mask); 0 on success (the mask beyond the kernel's is zeroed), or -1.
int CPeregrineLinux_sched_getaffinity(pid_t pid, size_t size, void *mask);

/// pthread_setname_np(pthread_self(), name): names the calling thread (at most 15 bytes, as `top -H`
/// and /proc/PID/task/TID/comm show it); 0 on success or an error number.
int CPeregrineLinux_setThreadName(const char *name);

/// setns(fd, nstype): moves the calling thread into the namespace `fd` refers to.
int CPeregrineLinux_setns(int fd, int nstype);

/// CLONE_NEWNET, for setns() on a network namespace (a GNU extension in <sched.h>).
static const int CPeregrineLinux_CLONE_NEWNET = 0x40000000;

#endif
