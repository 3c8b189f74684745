// SPDX-License-Identifier: Apache-2.0
#ifndef CPEREGRINE_CHECKSUM_H
#define CPEREGRINE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// Sums `words` unaligned 32-bit words at `bytes`, in the machine's byte order, into a 64-bit
/// total: the bulk of an RFC 1071 Internet checksum (PeregrineDecode folds and byte-swaps it).
///
/// Built for AVX2 and for baseline x86-64, picked once at load time (`target_clones`): the AVX2
/// version adds 32 bytes per step where Swift, compiled for baseline x86-64, adds 16.
uint64_t CPeregrineChecksum_sumWords(const void *bytes, size_t words);

#endif
