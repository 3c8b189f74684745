// SPDX-License-Identifier: Apache-2.0
// zlib, imported as a system library: HTTP's gzip and deflate Content-Encoding are decompressed
// before body lengths are counted and files are sniffed, as Zeek's ZIP analyzer does; rotated logs
// are gzip-compressed.
#include <zlib.h>

// zlib's inflateInit2 is a macro; Swift cannot call it, so this inline function does.
static inline int CZlib_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

// deflateInit2 is a macro too: rotated logs are gzip-compressed through it (`LogArchiver`).
static inline int CZlib_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
