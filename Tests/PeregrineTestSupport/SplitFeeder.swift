// SPDX-License-Identifier: Apache-2.0

/// Cuts a byte stream every way a stream consumer must survive (NIO's
/// `ByteToMessageDecoderVerifier`): whole, byte by byte, and in two at every split point.
///
/// Tests feed each chunking to the code under test and check that the result does not depend
/// on where the cuts fell.
public enum SplitFeeder {
    /// The chunkings of a stream of `count` bytes, as ranges of offsets in stream order: the whole
    /// stream, one range per byte, then `[0, k), [k, count)` for every `k` in `1..<count`.
    public static func chunkings(count: Int) -> [[Range<Int>]] {
        guard count > 0 else { return [] }
        var result: [[Range<Int>]] = [[0..<count]]
        if count > 1 { result.append((0..<count).map { $0..<($0 + 1) }) }
        for k in 1..<count { result.append([0..<k, k..<count]) }
        return result
    }

    /// ``chunkings(count:)`` applied to `bytes`.
    public static func chunks(of bytes: [UInt8]) -> [[ArraySlice<UInt8>]] {
        chunkings(count: bytes.count).map { ranges in ranges.map { bytes[$0] } }
    }
}
