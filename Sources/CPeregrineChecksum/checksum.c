// SPDX-License-Identifier: Apache-2.0
#include "CPeregrineChecksum.h"

#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
uint64_t CPeregrineChecksum_sumWords(const void *bytes, size_t words) {
    const unsigned char *p = bytes;
    uint64_t sum = 0;
    for (size_t i = 0; i < words; i++) {
        uint32_t w;
        memcpy(&w, p + 4 * i, sizeof w);  // unaligned load
        sum += w;
    }
    return sum;
}
