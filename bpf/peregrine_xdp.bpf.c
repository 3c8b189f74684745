// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * XDP program for AF_XDP capture: parses each frame (peregrine_hash.h), drops what the optional
 * drop filter names, drops and counts the packets of shunted flows per direction (their SYN, FIN and
 * RST still go through, so the worker sees the end of the connection or a new one on the same
 * 5-tuple), writes the capture time and the symmetric flow hash into the frame's metadata (struct
 * peregrine_metadata, 12 bytes just before the packet: an AF_XDP worker reads both without hashing
 * again, the hash at data - 4), and redirects the frame into the XSKMAP entry `hash % socket_count` (several sockets sharing
 * one queue), or with PEREGRINE_FEATURE_REDIRECT_BY_QUEUE into the entry of the frame's receive queue
 * (one socket per queue).
 *
 * Every outcome is counted in the per-CPU `counters` array (enum peregrine_counter), so nothing is
 * dropped or passed without a trace. Settings come from `.rodata.config` (struct peregrine_config),
 * fixed at load time; a feature that is off is removed by the verifier as dead code.
 */
#include <linux/bpf.h>
#define PEREGRINE_LOAD_BYTES(ctx, offset, to, length) bpf_xdp_load_bytes((ctx), (offset), (to), (length))
#define PEREGRINE_WANT_TCP_FLAGS
#define PEREGRINE_WANT_SEGMENT
#include "peregrine_hash.h"

#define PEREGRINE_TCP_FIN 0x01
#define PEREGRINE_TCP_SYN 0x02
#define PEREGRINE_TCP_RST 0x04
#define PEREGRINE_TCP_ACK 0x10

const volatile struct peregrine_config peregrine_config SEC(".rodata.config") = {.socket_count = 1};

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, PEREGRINE_MAX_SOCKETS);
    __type(key, __u32);
    __type(value, __u32);
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, PEREGRINE_COUNTER_COUNT);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

/* Addresses whose traffic (either direction) is dropped before user space sees it. */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 4096);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct peregrine_prefix_key);
    __type(value, __u8);
} drop_filter SEC(".maps");

/* Flows whose later packets the kernel drops and counts (a worker adds them, and takes them back with
 * the counts when the connection ends). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, PEREGRINE_SHUNT_CAPACITY);
    __type(key, struct peregrine_flow_key);
    __type(value, struct peregrine_shunt_counts);
} shunt SEC(".maps");

static __always_inline void count(__u32 index) {
    __u64 *value = bpf_map_lookup_elem(&counters, &index);
    if (value) *value += 1;
}

/* Adds `delta` to `*advance` and moves `*last` when `value` is ahead of it (sequence arithmetic);
 * returns 0 when it was not ahead. */
static __always_inline int advance_sequence(__u32 value, __u32 *last, __u64 *advance) {
    __s32 delta = (__s32)(value - *last);
    if (delta <= 0) return 0;
    *advance += (__u64)delta;
    *last = value;
    return 1;
}

/* Counts a dropped packet of a shunted flow in its direction (the key's endpoint that sent it). */
static __always_inline void count_shunted(struct peregrine_shunt_counts *shunted, const struct peregrine_flow *flow) {
    struct peregrine_shunt_direction *direction = flow->from_b ? &shunted->ba : &shunted->ab;
    direction->packets += 1;
    direction->ip_bytes += flow->ip_length;
    direction->payload_bytes += flow->payload_length;
    if (flow->key.protocol == PEREGRINE_IPPROTO_TCP) {
        if (!advance_sequence(flow->seq + flow->payload_length, &direction->seq_last, &direction->seq_advance) &&
            flow->payload_length > 0)
            direction->retransmissions += 1;
        if (flow->window == 0) direction->zero_windows += 1;
        if (flow->tcp_flags & PEREGRINE_TCP_ACK)
            advance_sequence(flow->ack, &direction->ack_last, &direction->ack_advance);
    }
}

static __always_inline int address_filtered(const __u32 *address) {
    struct peregrine_prefix_key key = {.prefix_length = 128};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        __u32 word = bpf_htonl(address[i]);
        __builtin_memcpy(key.address + 4 * i, &word, 4);
    }
    return bpf_map_lookup_elem(&drop_filter, &key) != 0;
}

SEC("xdp")
int peregrine_xdp(struct xdp_md *ctx) {
    count(PEREGRINE_COUNTER_PACKETS);
    struct peregrine_flow flow;
    __u8 ethernet[14];
    if (bpf_xdp_load_bytes(ctx, 0, ethernet, 14) == 0)
        peregrine_parse_flow(ctx, 14, ((__u32)ethernet[12] << 8) | ethernet[13], &flow);
    else
        __builtin_memset(&flow, 0, sizeof(flow));
    if (!flow.is_ip) count(PEREGRINE_COUNTER_NOT_IP);

    if ((peregrine_config.features & PEREGRINE_FEATURE_DROP_FILTER) && flow.is_ip &&
        (address_filtered(flow.key.addr_a) || address_filtered(flow.key.addr_b))) {
        count(PEREGRINE_COUNTER_FILTERED);
        return XDP_DROP;
    }
    if ((peregrine_config.features & PEREGRINE_FEATURE_SHUNT) && flow.is_ip) {
        struct peregrine_shunt_counts *shunted = bpf_map_lookup_elem(&shunt, &flow.key);
        if (shunted) {
            if (flow.tcp_flags & (PEREGRINE_TCP_SYN | PEREGRINE_TCP_FIN | PEREGRINE_TCP_RST)) {
                count(PEREGRINE_COUNTER_SHUNT_PASSED);
            } else {
                count_shunted(shunted, &flow);
                count(PEREGRINE_COUNTER_SHUNTED);
                return XDP_DROP;
            }
        }
    }

    __u32 hash = peregrine_hash_key(&flow.key, peregrine_config.hash_seed);
    /* The hash and the capture time go into the metadata (struct peregrine_metadata). */
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct peregrine_metadata)) == 0) {
        struct peregrine_metadata *meta = (void *)(long)ctx->data_meta;
        void *data = (void *)(long)ctx->data;
        if ((void *)(meta + 1) <= data) {
            meta->timestamp_ns = bpf_ktime_get_ns();
            meta->hash = hash;
        }
    } else {
        count(PEREGRINE_COUNTER_NO_METADATA);
    }

    __u32 entry;
    if (peregrine_config.features & PEREGRINE_FEATURE_REDIRECT_BY_QUEUE) {
        entry = ctx->rx_queue_index;
    } else {
        __u32 sockets = peregrine_config.socket_count ? peregrine_config.socket_count : 1;
        entry = hash % sockets;
    }
    long action = bpf_redirect_map(&xsks, entry, XDP_PASS);
    count(action == XDP_REDIRECT ? PEREGRINE_COUNTER_REDIRECTED : PEREGRINE_COUNTER_NO_SOCKET);
    return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
