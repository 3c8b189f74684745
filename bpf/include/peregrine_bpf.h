/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The structs and numbers shared by the BPF programs in bpf/ and the user-space loader
 * (Sources/CPeregrineBPF, which reaches this file through a symlink): the only copy of each.
 * Plain <linux/types.h> types, so the same file compiles for the BPF target and for the host.
 */
#ifndef PEREGRINE_BPF_H
#define PEREGRINE_BPF_H

#include <linux/types.h>

/*
 * Settings fixed at load time, in the programs' ".rodata.config" section (`const volatile`): the
 * loader writes them between open and load, and the verifier then treats them as constants, so a
 * feature that is off costs nothing per packet.
 */
struct peregrine_config {
    /* Seed of the symmetric flow hash (peregrine_hash.h); the same in every program of a run. */
    __u32 hash_seed;
    /* XDP: sockets in the XSKMAP; a packet goes to entry `hash % socket_count` (0 counts as 1), or
     * with PEREGRINE_FEATURE_REDIRECT_BY_QUEUE to the entry of its receive queue. */
    __u32 socket_count;
    /* XDP: PEREGRINE_FEATURE_* bits. */
    __u32 features;
    __u32 reserved;
};

/* XDP: entries of the `xsks` XSKMAP, the most AF_XDP sockets one program feeds. */
#define PEREGRINE_MAX_SOCKETS 64

/* XDP: look both addresses up in the `drop_filter` LPM trie and drop a packet when either matches. */
#define PEREGRINE_FEATURE_DROP_FILTER 0x1u
/* XDP: look the flow up in the `shunt` map and drop (and count) its packets in the kernel. */
#define PEREGRINE_FEATURE_SHUNT 0x2u
/*
 * XDP: redirect into the XSKMAP entry `rx_queue_index` instead of `hash % socket_count`, for one AF_XDP
 * socket per receive queue. The kernel delivers a redirected frame only to a socket bound to the queue
 * it arrived on and drops it silently otherwise (linux-capture-facts.md §3.2), so on a device with
 * several queues the flow hash cannot pick the socket: symmetric RSS spreads the flows instead.
 */
#define PEREGRINE_FEATURE_REDIRECT_BY_QUEUE 0x4u

/*
 * The flow key the hash mixes, as ten 32-bit words in host byte order holding the big-endian value
 * of the packet's bytes: endpoint `a` is the lower of the two (address, port) pairs, so both
 * directions of a flow give the same key. IPv4 addresses are IPv4-mapped IPv6 (::ffff:a.b.c.d).
 * Also the key of the `shunt` map.
 */
struct peregrine_flow_key {
    __u32 addr_a[4];
    __u32 addr_b[4];
    /* port_a << 16 | port_b; 0 when the packet has no ports (see peregrine_hash.h). */
    __u32 ports;
    /* The IP protocol number (the upper-layer protocol for IPv6); 0 for a frame that is not IP. */
    __u32 protocol;
};

/* The `drop_filter` LPM trie's key: a prefix of an IPv4-mapped or IPv6 address. */
struct peregrine_prefix_key {
    __u32 prefix_length; /* bits, counted over the 128-bit (IPv4-mapped) address */
    __u8 address[16];
};

/*
 * What the kernel dropped of one direction of a shunted flow, per CPU (the `shunt` map's value holds
 * one for each direction). The worker adds the entry with every CPU's `seq_last`/`ack_last` set to the
 * numbers it saw last, and restores conn.log's counters from the sums (`packets`, `ip_bytes`,
 * `payload_bytes`) and the furthest advance over the CPUs (`seq_advance`, `ack_advance`) when it takes
 * the entry back.
 */
struct peregrine_shunt_direction {
    __u64 packets;
    /* IPv4 total length, or IPv6 payload length + 40: what conn.log's orig_ip_bytes/resp_ip_bytes add. */
    __u64 ip_bytes;
    /* UDP: the length field minus 8 (conn.log orig_bytes/resp_bytes); TCP: segment payload bytes. */
    __u64 payload_bytes;
    /* TCP: how far the highest sequence number + payload length moved past `seq_last`'s first value
     * (wrap-safe: each step is a signed 32-bit difference), and likewise the highest ACK number sent. */
    __u64 seq_advance;
    __u64 ack_advance;
    /* TCP: segments with payload that did not move the highest sequence number + length (Zeek's
     * retransmission test, conn.log history `T`/`t`). */
    __u64 retransmissions;
    /* TCP: segments advertising a zero window (conn.log history `W`/`w`). */
    __u64 zero_windows;
    __u32 seq_last;
    __u32 ack_last;
};

/*
 * The `shunt` map's value (per CPU): `ab` counts the packets sent by the key's endpoint a (the lower
 * address/port), `ba` those sent by endpoint b. TCP segments with SYN, FIN or RST are not counted:
 * they pass to user space.
 */
struct peregrine_shunt_counts {
    struct peregrine_shunt_direction ab;
    struct peregrine_shunt_direction ba;
};

/* Entries of the `shunt` map: the most flows shunted at once (the worker counts refusals beyond it). */
#define PEREGRINE_SHUNT_CAPACITY 65536

/* Indices of the XDP program's per-CPU `counters` array. */
enum peregrine_counter {
    PEREGRINE_COUNTER_PACKETS = 0,       /* every packet the program saw */
    PEREGRINE_COUNTER_NOT_IP = 1,        /* not IPv4/IPv6 after up to two VLAN tags, or a bad IP header */
    PEREGRINE_COUNTER_FILTERED = 2,      /* dropped by the drop filter */
    PEREGRINE_COUNTER_SHUNTED = 3,       /* dropped because their flow is shunted */
    PEREGRINE_COUNTER_SHUNT_PASSED = 4,  /* SYN, FIN or RST of a shunted flow, sent on to user space */
    PEREGRINE_COUNTER_REDIRECTED = 5,    /* handed to bpf_redirect_map with a socket in the entry */
    PEREGRINE_COUNTER_NO_SOCKET = 6,     /* no socket at the entry: passed to the kernel stack */
    PEREGRINE_COUNTER_NO_METADATA = 7,   /* the driver gave no metadata room for the hash */
    PEREGRINE_COUNTER_COUNT = 8,
};

/* What the XDP program writes in a frame's metadata, the bytes just before the frame (the kernel
 * copies them into the UMEM headroom): the flow hash right before the first byte, at data - 4, and
 * before it the time the program saw the frame (bpf_ktime_get_ns, CLOCK_MONOTONIC), at data - 12.
 * AF_XDP descriptors carry no time, so this is the frame's capture time. Packed: the metadata length
 * must be a multiple of 4 (12), and the hash must stay at data - 4. */
struct peregrine_metadata {
    __u64 timestamp_ns;
    __u32 hash;
} __attribute__((packed));

#endif
