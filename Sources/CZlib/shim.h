// SPDX-License-Identifier: Apache-2.0
// zlib, imported as a system library: HTTP's gzip and deflate Content-Encoding are decompressed
// before body lengths are counted and files are sniffed, as Zeek's ZIP analyzer does.
#include <zlib.h>

// zlib's inflateInit2 is a macro; Swift cannot call it, so this inline function does.
static inline int CZlib_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
