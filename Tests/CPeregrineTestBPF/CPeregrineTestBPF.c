// SPDX-License-Identifier: Apache-2.0
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CPeregrineTestBPF.h"

int CPeregrineTestBPF_loadLengthParityProgram(void) {
    struct bpf_insn instructions[] = {
        // r0 = *(u32 *)(r1 + offsetof(struct __sk_buff, len))
        {.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_1,
         .off = offsetof(struct __sk_buff, len)},
        // r0 &= 1
        {.code = BPF_ALU64 | BPF_AND | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
        // return r0
        {.code = BPF_JMP | BPF_EXIT},
    };
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (unsigned long)instructions;
    attr.insn_cnt = sizeof(instructions) / sizeof(instructions[0]);
    attr.license = (unsigned long)"GPL";
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int CPeregrineTestBPF_dropBPFCapabilities(void) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    const int dropped[] = {CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_NET_ADMIN};
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        data[CAP_TO_INDEX(dropped[i])].effective &= ~CAP_TO_MASK(dropped[i]);
        data[CAP_TO_INDEX(dropped[i])].permitted &= ~CAP_TO_MASK(dropped[i]);
    }
    /* SYS_capset with pid 0 changes the calling thread only (the raw system call, not libcap). */
    return (int)syscall(SYS_capset, &header, data);
}

int CPeregrineTestBPF_updateMap(int map_descriptor, const void *key, const void *value) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_fd = (unsigned)map_descriptor;
    attr.key = (unsigned long)key;
    attr.value = (unsigned long)value;
    attr.flags = BPF_ANY;
    return (int)syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr));
}
