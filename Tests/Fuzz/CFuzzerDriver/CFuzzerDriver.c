// SPDX-License-Identifier: Apache-2.0
// Header-only target: LLVMFuzzerRunDriver is defined by libFuzzer, linked with -sanitize=fuzzer.
#include "CFuzzerDriver.h"
