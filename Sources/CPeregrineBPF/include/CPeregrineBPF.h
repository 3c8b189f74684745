/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPeregrineBPF: the few libbpf calls the Swift loader makes, behind plain C types.
 *
 * Why a C target and not a system-library module for libbpf: <bpf/libbpf.h> includes <linux/bpf.h>,
 * whose `struct bpf_insn` collides with libpcap's <pcap/bpf.h> in every Swift module that also sees
 * CPcap (PeregrineCapture does). This header includes neither; only CPeregrineBPF.c includes libbpf.
 * No logic beyond turning libbpf's errors and the verifier's log into a message.
 */
#ifndef C_PEREGRINE_BPF_H
#define C_PEREGRINE_BPF_H

#include <stddef.h>
#include <stdint.h>
#include "peregrine_bpf.h"

/* An opened BPF object file (a `struct bpf_object`). */
typedef struct CPeregrineBPF_object CPeregrineBPF_object;

/*
 * Opens the object file at `path` (bpf_object__open_file). Returns NULL with errno set and a
 * reason in `message` (NUL-terminated, cut to `message_size`) on failure.
 */
CPeregrineBPF_object *CPeregrineBPF_open(const char *path, char *message, size_t message_size);

/*
 * Sets the object's `.rodata.config` section (struct peregrine_config) before loading. Returns 0,
 * or -1 with errno set (EINVAL: the object has no such section or it has another size; EBUSY: loaded).
 */
int CPeregrineBPF_setConfig(CPeregrineBPF_object *object, const struct peregrine_config *config);

/*
 * Loads every program and map of the object into the kernel (bpf_object__load). Returns 0, or -1
 * with errno set and in `message` libbpf's reason, followed for a program the verifier rejected by
 * the last lines of its log.
 */
int CPeregrineBPF_load(CPeregrineBPF_object *object, char *message, size_t message_size);

/* The descriptor of the loaded program named `name` (its C function name), or -1 with errno ENOENT. */
int CPeregrineBPF_programDescriptor(CPeregrineBPF_object *object, const char *name);

/* The descriptor of the loaded map named `name`, or -1 with errno ENOENT. */
int CPeregrineBPF_mapDescriptor(CPeregrineBPF_object *object, const char *name);

/* Closes every descriptor of the object and frees it (bpf_object__close). */
void CPeregrineBPF_close(CPeregrineBPF_object *object);

/*
 * Runs a loaded program once on `data` (BPF_PROG_TEST_RUN, bpf_prog_test_run_opts). The packet
 * the program leaves (for XDP, starting at its metadata) is copied into `data_out` and its length
 * stored in `*data_out_size` (in: capacity). Returns 0 with the program's return value in
 * `*return_value`, or -1 with errno set.
 */
int CPeregrineBPF_testRun(
    int program_descriptor, const void *data, uint32_t size, void *data_out, uint32_t *data_out_size,
    uint32_t *return_value);

/* XDP attach modes for CPeregrineBPF_attachXDP (the kernel's XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE). */
#define CPeregrineBPF_XDP_GENERIC_MODE (1U << 1)
#define CPeregrineBPF_XDP_NATIVE_MODE (1U << 2)

/*
 * Attaches a loaded XDP program to interface `interface_index` through a BPF link
 * (bpf_link_create(BPF_XDP)) in the given mode. Returns the link's descriptor: closing it, or the
 * process ending in any way, detaches the program, so a crashed sensor leaves none behind.
 * Returns -1 with errno set on failure.
 */
int CPeregrineBPF_attachXDP(int program_descriptor, int interface_index, uint32_t mode);

/*
 * Sums the per-CPU values of entry `index` of a BPF_MAP_TYPE_PERCPU_ARRAY of __u64 (the XDP
 * program's counters). Returns 0, or -1 with errno set.
 */
int CPeregrineBPF_sumPerCPUCounter(int map_descriptor, uint32_t index, uint64_t *sum);

/*
 * Adds `key` to the XDP program's `shunt` map (bpf_map_update_elem, BPF_NOEXIST), every CPU's value
 * zero but for `seq_last`/`ack_last`, which start at `start->ab`/`start->ba`'s. Returns 0, or -1 with
 * errno set (EEXIST: already there; E2BIG: the map is full).
 */
int CPeregrineBPF_shuntAdd(int map_descriptor, const struct peregrine_flow_key *key,
                           const struct peregrine_shunt_counts *start);

/*
 * Reads `key`'s per-CPU values from the `shunt` map into `total`: packets and bytes summed over the
 * CPUs, `seq_advance`/`ack_advance` the largest of any CPU (each CPU measured from the same start), the
 * `*_last` fields of that CPU. With `remove` the entry goes in the same call
 * (bpf_map_lookup_and_delete_elem). Returns 0, or -1 with errno set (ENOENT: no such entry).
 */
int CPeregrineBPF_shuntRead(int map_descriptor, const struct peregrine_flow_key *key, int remove,
                            struct peregrine_shunt_counts *total);

/* Deletes `key` from a BPF hash map (bpf_map_delete_elem). Returns 0, or -1 with errno set. */
int CPeregrineBPF_deleteKey(int map_descriptor, const void *key);

#endif
