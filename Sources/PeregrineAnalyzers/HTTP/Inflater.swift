// SPDX-License-Identifier: Apache-2.0
import CZlib

/// Streaming gzip/deflate decompression for one HTTP entity (Zeek's `ZIP_Analyzer`, which the
/// HTTP analyzer puts in front of the body when `Content-Encoding` is `gzip`, `x-gzip` or
/// `deflate`).
///
/// One instance lives for one entity body (a per-transaction allocation, never per packet).
/// Output goes through a fixed buffer, so memory stays bounded whatever the compression ratio;
/// the caller bounds the total with its own limit.
final class Inflater {
    private var stream = z_stream()
    private var out: UnsafeMutableRawBufferPointer
    private var open = false
    /// zlib reported corrupt data; later input is dropped.
    private(set) var failed = false
    /// For `deflate`: whether a zlib header was assumed (servers send raw deflate as often as
    /// the zlib-wrapped form; Zeek retries raw once, as here).
    private var mayRetryRaw: Bool
    private var consumedAny = false

    /// Output buffer size: one decompressed chunk handed on per call.
    static let chunkSize = 16 * 1024

    /// - Parameter gzip: `gzip`/`x-gzip` (else `deflate`).
    init(gzip: Bool) {
        out = .allocate(byteCount: Self.chunkSize, alignment: 1)
        mayRetryRaw = !gzip
        // 15 + 32: zlib or gzip header, detected automatically (Zeek's ZIP analyzer does the same).
        open = CZlib_inflateInit2(&stream, gzip ? 15 + 32 : 15) == Z_OK
        failed = !open
    }

    deinit {
        if open { inflateEnd(&stream) }
        out.deallocate()
    }

    /// Decompresses `input`, calling `body` with each decompressed chunk.
    /// - Returns: false when the data is corrupt (Zeek's `inflate_failed`); reported once.
    func feed(_ input: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard !failed, let base = input.baseAddress, input.count > 0 else { return !failed }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while stream.avail_in > 0 {
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(Self.chunkSize)
            let status = inflate(&stream, Z_SYNC_FLUSH)
            let produced = Self.chunkSize - Int(stream.avail_out)
            if produced > 0 {
                consumedAny = true
                body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<produced]))
            }
            if status == Z_DATA_ERROR && mayRetryRaw && !consumedAny {
                // A `deflate` body without the zlib header: restart as raw deflate.
                mayRetryRaw = false
                inflateEnd(&stream)
                stream = z_stream()
                open = CZlib_inflateInit2(&stream, -15) == Z_OK
                guard open else {
                    failed = true
                    return false
                }
                stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(input.count)
                continue
            }
            if status == Z_STREAM_END { return true }
            if status != Z_OK && status != Z_BUF_ERROR {
                failed = true
                return false
            }
            if status == Z_BUF_ERROR && produced == 0 { break }
        }
        return true
    }
}
