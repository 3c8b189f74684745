// SPDX-License-Identifier: Apache-2.0
//
// Test fixture: a tiny eBPF socket-filter program for the PACKET_FANOUT_EBPF test. It lives in C because
// <linux/bpf.h> and libpcap's <pcap/bpf.h> both define `struct bpf_insn`, and a Swift module that sees
// both (every module importing PeregrineCapture sees CPcap) fails to build; only this file's .c includes
// <linux/bpf.h>.
#ifndef C_PEREGRINE_TEST_BPF_H
#define C_PEREGRINE_TEST_BPF_H

/// Loads `r0 = skb->len & 1; exit` as BPF_PROG_TYPE_SOCKET_FILTER with bpf(BPF_PROG_LOAD) and returns its
/// descriptor, or -1 with errno set. As a fanout program it sends packets of even network-layer length to
/// socket 0 and odd ones to socket 1.
int CPeregrineTestBPF_loadLengthParityProgram(void);

/// Drops CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN and CAP_NET_ADMIN from the calling thread's effective and
/// permitted sets (capabilities are per thread; the rest of the process keeps them), to test what a
/// sensor started without them reports. Returns 0, or -1 with errno set.
int CPeregrineTestBPF_dropBPFCapabilities(void);

/// Sets `key` to `value` in the BPF map `map_descriptor` with bpf(BPF_MAP_UPDATE_ELEM, BPF_ANY); for a
/// per-CPU map `value` holds one value per possible CPU. Returns 0, or -1 with errno set.
int CPeregrineTestBPF_updateMap(int map_descriptor, const void *key, const void *value);

#endif
