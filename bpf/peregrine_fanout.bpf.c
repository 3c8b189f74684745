// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * PACKET_FANOUT_EBPF program: picks the socket of an AF_PACKET fanout group by the project's
 * symmetric flow hash (peregrine_hash.h), so both directions of a flow reach one worker, on every
 * interface whose group has the same number of sockets.
 *
 * It returns the hash itself: the kernel takes the return value modulo the group's size
 * (net/packet/af_packet.c, fanout_demux_bpf: `bpf_prog_run_clear_cb(prog, skb) % num`).
 * When it runs, skb->data is at the network header and the outer VLAN tag, if any, has been
 * moved out of the packet by the stack (skb_vlan_untag); skb->protocol names what follows, which
 * is an inner tag for QinQ. BPF_PROG_TEST_RUN hands a frame the same way (eth_type_trans), with
 * every tag still in the data: the parser skips up to two in either case.
 */
#include <linux/bpf.h>
#define PEREGRINE_LOAD_BYTES(ctx, offset, to, length) bpf_skb_load_bytes((ctx), (offset), (to), (length))
#include "peregrine_hash.h"

const volatile struct peregrine_config peregrine_config SEC(".rodata.config") = {};

SEC("socket")
int peregrine_fanout(struct __sk_buff *skb) {
    struct peregrine_flow flow;
    peregrine_parse_flow(skb, 0, bpf_ntohs(skb->protocol), &flow);
    return peregrine_hash_key(&flow.key, peregrine_config.hash_seed);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
