// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer's driver entry, so a Swift executable can start the fuzzing loop from main.swift.
// SwiftPM renames an executable's entry point on Linux (`--defsym main=<module>_main`), which
// rules out building with `-parse-as-library` and taking libFuzzer's own main(); with main
// defined, libFuzzer's FuzzerMain.o is never pulled from the archive, and main.swift calls this.
// The function is part of libFuzzer since LLVM 12 (compiler-rt/lib/fuzzer/FuzzerInterface.h).
#ifndef C_FUZZER_DRIVER_H
#define C_FUZZER_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with the command line `*argc`/`*argv`, calling `callback` for every input.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
