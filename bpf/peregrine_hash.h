/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The project's symmetric flow hash: the one definition the BPF programs use, mirrored line for line
 * by Sources/PeregrineDecode/SymmetricFlowHash.swift; Tests/PeregrineCaptureTests/BPF/ runs both on
 * every packet of the corpus traces and requires equal values. Change both or neither.
 *
 * Key (struct peregrine_flow_key, bpf/include/peregrine_bpf.h), from the outermost IP header:
 *   - Ethernet, then up to two VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8); the tag values are not
 *     part of the key. Anything else, a truncated header, or an IP header with the wrong version or
 *     IHL < 5 gives the all-zero key (every such frame hashes alike).
 *   - both addresses (IPv4 as IPv4-mapped IPv6) and the protocol;
 *   - the two ports for TCP, UDP and SCTP when the packet is not a fragment and the four port bytes
 *     are present; otherwise ports are 0. IPv4 fragments (MF set or offset != 0) and IPv6 fragments
 *     (Fragment header with offset != 0 or M set) hash on addresses + protocol alone, first fragment
 *     included, so all fragments of a datagram land together. A flow whose packets are sometimes
 *     fragmented can therefore split: its fragments go where its 3-tuple hashes, its whole packets
 *     where its 5-tuple does (with PACKET_FANOUT_FLAG_DEFRAG the kernel reassembles IPv4 before the
 *     fanout program runs, which avoids that for IPv4 in AF_PACKET mode).
 *   - IPv6 walks at most PEREGRINE_IPV6_MAX_EXTENSIONS extension headers (hop-by-hop 0, routing 43,
 *     destination options 60, fragment 44; an atomic fragment, offset 0 and M clear, is walked over).
 *     The protocol is the Next Header value where the walk stops: the upper layer, the fragment
 *     header's Next Header, or an extension header's number when the walk ran out or a header was
 *     cut short (then there are no ports).
 *   - the endpoints ordered: (address a, port a) <= (address b, port b), addresses compared word by
 *     word as big-endian numbers, then ports. Swapping source and destination gives the same key.
 * Mix: MurmurHash3 x86_32 (Austin Appleby, public domain) over the key's ten words, each used as a
 * block as is, with length 40 and the run's seed. Cheap on both sides: about 60 ALU instructions.
 *
 * With PEREGRINE_WANT_SEGMENT defined the parser also fills what the shunt table counts (struct
 * peregrine_flow: which endpoint sent the packet, IP length, payload length, TCP sequence and
 * acknowledgement numbers); the fanout program leaves it out.
 *
 * Include this after defining PEREGRINE_LOAD_BYTES(ctx, offset, to, length): a helper call that
 * copies `length` bytes at `offset` of the packet and returns < 0 when they are not all there
 * (bpf_skb_load_bytes, bpf_xdp_load_bytes). Reads go through it so the socket filter, which sees a
 * possibly non-linear skb, and the XDP program share every line of the parser.
 */
#ifndef PEREGRINE_HASH_H
#define PEREGRINE_HASH_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "peregrine_bpf.h"

#ifndef PEREGRINE_LOAD_BYTES
#error "define PEREGRINE_LOAD_BYTES(ctx, offset, to, length) before including peregrine_hash.h"
#endif

#define PEREGRINE_ETH_P_IP 0x0800
#define PEREGRINE_ETH_P_IPV6 0x86DD
#define PEREGRINE_ETH_P_8021Q 0x8100
#define PEREGRINE_ETH_P_8021AD 0x88A8
/* VLAN tags parsed before the network header (QinQ); a third tag makes the frame "not IP". */
#define PEREGRINE_VLAN_MAX_DEPTH 2
/* IPv6 extension headers walked; real traffic carries one or two, and the verifier needs a bound. */
#define PEREGRINE_IPV6_MAX_EXTENSIONS 8

#define PEREGRINE_IPPROTO_HOPOPTS 0
#define PEREGRINE_IPPROTO_TCP 6
#define PEREGRINE_IPPROTO_UDP 17
#define PEREGRINE_IPPROTO_ROUTING 43
#define PEREGRINE_IPPROTO_FRAGMENT 44
#define PEREGRINE_IPPROTO_DSTOPTS 60
#define PEREGRINE_IPPROTO_SCTP 132

/* What the parser found besides the key. */
struct peregrine_flow {
    struct peregrine_flow_key key;
    /* 1 when the frame had a valid IPv4/IPv6 header (the key is not all zero). */
    __u8 is_ip;
    /* TCP flags byte when the packet is an unfragmented TCP segment with them present, else 0. */
    __u8 tcp_flags;
    /* PEREGRINE_WANT_SEGMENT: 1 when the packet was sent by the key's endpoint b (the endpoints were
     * swapped to order the key), 0 when by endpoint a. */
    __u8 from_b;
    /* PEREGRINE_WANT_SEGMENT: IPv4 total length, or IPv6 payload length + 40. */
    __u32 ip_length;
    /* PEREGRINE_WANT_SEGMENT: UDP length field - 8, or TCP payload (IP length - IP headers - data
     * offset); 0 when not there. */
    __u32 payload_length;
    /* PEREGRINE_WANT_SEGMENT: TCP sequence and acknowledgement numbers (host order), else 0. */
    __u32 seq;
    __u32 ack;
    /* PEREGRINE_WANT_SEGMENT: TCP window field (unscaled), else 0. */
    __u32 window;
};

static __always_inline __u32 peregrine_rotl32(__u32 x, __u32 r) { return (x << r) | (x >> (32 - r)); }

/* MurmurHash3 x86_32 over the key's ten words. */
static __always_inline __u32 peregrine_hash_key(const struct peregrine_flow_key *key, __u32 seed) {
    const __u32 *words = (const __u32 *)key;
    __u32 h = seed;
#pragma unroll
    for (int i = 0; i < 10; i++) {
        __u32 k = words[i] * 0xcc9e2d51u;
        k = peregrine_rotl32(k, 15) * 0x1b873593u;
        h ^= k;
        h = peregrine_rotl32(h, 13) * 5 + 0xe6546b64u;
    }
    h ^= 40;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* Orders the endpoints: swaps a and b when (addr_b, port b) < (addr_a, port a). Returns 1 when it
 * swapped them (the packet was sent by the key's endpoint b). */
static __always_inline int peregrine_order_endpoints(struct peregrine_flow_key *key) {
    __u32 port_a = key->ports >> 16, port_b = key->ports & 0xffff;
    int swap = 0, decided = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        if (!decided && key->addr_a[i] != key->addr_b[i]) {
            swap = key->addr_b[i] < key->addr_a[i];
            decided = 1;
        }
    }
    if (!decided) swap = port_b < port_a;
    if (swap) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            __u32 t = key->addr_a[i];
            key->addr_a[i] = key->addr_b[i];
            key->addr_b[i] = t;
        }
        key->ports = (port_b << 16) | port_a;
    }
    return swap;
}

static __always_inline __u32 peregrine_be32(const __u8 *p) {
    return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

/* Reads the two ports (and TCP's flags) of the transport header at `offset`, if present;
 * `ip_headers` is the length of the IP header(s) before it (PEREGRINE_WANT_SEGMENT). */
static __always_inline void peregrine_parse_ports(void *ctx, __u32 offset, __u32 ip_headers, struct peregrine_flow *flow) {
    __u32 protocol = flow->key.protocol;
    if (protocol != PEREGRINE_IPPROTO_TCP && protocol != PEREGRINE_IPPROTO_UDP && protocol != PEREGRINE_IPPROTO_SCTP)
        return;
    __u8 ports[4];
    if (PEREGRINE_LOAD_BYTES(ctx, offset, ports, 4) < 0) return;
    flow->key.ports = ((__u32)ports[0] << 24) | ((__u32)ports[1] << 16) | ((__u32)ports[2] << 8) | ports[3];
#ifdef PEREGRINE_WANT_TCP_FLAGS
    __u8 flags;
    if (protocol == PEREGRINE_IPPROTO_TCP && PEREGRINE_LOAD_BYTES(ctx, offset + 13, &flags, 1) == 0)
        flow->tcp_flags = flags;
#endif
#ifdef PEREGRINE_WANT_SEGMENT
    if (protocol == PEREGRINE_IPPROTO_TCP) {
        __u8 tcp[12]; /* sequence, acknowledgement, data offset, flags, window */
        if (PEREGRINE_LOAD_BYTES(ctx, offset + 4, tcp, 12) < 0) return;
        flow->seq = peregrine_be32(tcp);
        flow->ack = peregrine_be32(tcp + 4);
        flow->window = ((__u32)tcp[10] << 8) | tcp[11];
        __u32 headers = ip_headers + (tcp[8] >> 4) * 4;
        flow->payload_length = flow->ip_length > headers ? flow->ip_length - headers : 0;
    } else if (protocol == PEREGRINE_IPPROTO_UDP) {
        __u8 length[2];
        if (PEREGRINE_LOAD_BYTES(ctx, offset + 4, length, 2) < 0) return;
        __u32 udp_length = ((__u32)length[0] << 8) | length[1];
        flow->payload_length = udp_length > 8 ? udp_length - 8 : 0;
    }
#else
    (void)ip_headers;
#endif
}


static __always_inline int peregrine_parse_ipv4(void *ctx, __u32 offset, struct peregrine_flow *flow) {
    __u8 ip[20];
    if (PEREGRINE_LOAD_BYTES(ctx, offset, ip, 20) < 0) return 0;
    __u32 header_length = (ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || header_length < 20) return 0;
    flow->is_ip = 1;
    flow->key.addr_a[2] = 0xffff;
    flow->key.addr_a[3] = peregrine_be32(ip + 12);
    flow->key.addr_b[2] = 0xffff;
    flow->key.addr_b[3] = peregrine_be32(ip + 16);
    flow->key.protocol = ip[9];
#ifdef PEREGRINE_WANT_SEGMENT
    flow->ip_length = ((__u32)ip[2] << 8) | ip[3];
#endif
    /* MF flag or a fragment offset: a fragment (the first one too). */
    if (((((__u32)ip[6] << 8) | ip[7]) & 0x3fff) == 0)
        peregrine_parse_ports(ctx, offset + header_length, header_length, flow);
    return 1;
}

static __always_inline int peregrine_parse_ipv6(void *ctx, __u32 offset, struct peregrine_flow *flow) {
    __u8 ip[40];
    if (PEREGRINE_LOAD_BYTES(ctx, offset, ip, 40) < 0) return 0;
    if ((ip[0] >> 4) != 6) return 0;
    flow->is_ip = 1;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        flow->key.addr_a[i] = peregrine_be32(ip + 8 + 4 * i);
        flow->key.addr_b[i] = peregrine_be32(ip + 24 + 4 * i);
    }
    __u32 next = ip[6];
#ifdef PEREGRINE_WANT_SEGMENT
    flow->ip_length = (((__u32)ip[4] << 8) | ip[5]) + 40;
#endif
    __u32 ip_start = offset;
    offset += 40;
    for (int i = 0; i < PEREGRINE_IPV6_MAX_EXTENSIONS; i++) {
        __u8 extension[4];
        if (next == PEREGRINE_IPPROTO_HOPOPTS || next == PEREGRINE_IPPROTO_ROUTING || next == PEREGRINE_IPPROTO_DSTOPTS) {
            if (PEREGRINE_LOAD_BYTES(ctx, offset, extension, 2) < 0) break;
            next = extension[0];
            offset += ((__u32)extension[1] + 1) * 8;
        } else if (next == PEREGRINE_IPPROTO_FRAGMENT) {
            if (PEREGRINE_LOAD_BYTES(ctx, offset, extension, 4) < 0) break;
            next = extension[0];
            if (((((__u32)extension[2] << 8) | extension[3]) & 0xfff9) != 0) {
                flow->key.protocol = next; /* a fragment: no ports */
                return 1;
            }
            offset += 8;
        } else {
            break;
        }
    }
    flow->key.protocol = next;
    peregrine_parse_ports(ctx, offset, offset - ip_start, flow);
    return 1;
}

/*
 * Parses the packet from `offset`, where `ethertype` (host order) says what starts: VLAN tags, then
 * IPv4 or IPv6. Fills `flow` (zeroed here) and orders its endpoints.
 */
static __always_inline void peregrine_parse_flow(void *ctx, __u32 offset, __u32 ethertype, struct peregrine_flow *flow) {
    __builtin_memset(flow, 0, sizeof(*flow));
#pragma unroll
    for (int i = 0; i < PEREGRINE_VLAN_MAX_DEPTH; i++) {
        if (ethertype != PEREGRINE_ETH_P_8021Q && ethertype != PEREGRINE_ETH_P_8021AD) break;
        __u8 tag[4];
        if (PEREGRINE_LOAD_BYTES(ctx, offset, tag, 4) < 0) return;
        ethertype = ((__u32)tag[2] << 8) | tag[3];
        offset += 4;
    }
    int ok = 0;
    if (ethertype == PEREGRINE_ETH_P_IP) ok = peregrine_parse_ipv4(ctx, offset, flow);
    else if (ethertype == PEREGRINE_ETH_P_IPV6) ok = peregrine_parse_ipv6(ctx, offset, flow);
    if (!ok) {
        __builtin_memset(flow, 0, sizeof(*flow));
        return;
    }
    flow->from_b = peregrine_order_endpoints(&flow->key);
}

#endif
