// SPDX-License-Identifier: Apache-2.0
#include <linux/bpf.h>
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
