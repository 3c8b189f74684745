// SPDX-License-Identifier: Apache-2.0
// libzstd, imported as a system library: rotated logs are compressed with zstd when the
// configuration asks for it (`LogArchiver`).
#include <zstd.h>
