// SPDX-License-Identifier: Apache-2.0
@testable import PeregrineDecode
import Testing

@Suite struct ChecksumTests {
    /// RFC 1071 word by word, big-endian, as the reference.
    static func reference(_ bytes: [UInt8], offset: Int, count: Int, start: UInt64) -> UInt16 {
        var s = start
        var i = offset
        while i + 1 < offset + count {
            s += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < offset + count { s += UInt64(bytes[i]) << 8 }
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    /// Every length from 0 to 300 at even and odd offsets, over random and all-0xFF bytes, with
    /// and without a running sum: the same folded value as the word-by-word reference.
    @Test(arguments: [false, true])
    func matchesWordByWordSum(allOnes: Bool) {
        var generator = SystemRandomNumberGenerator()
        let bytes: [UInt8] = (0..<512).map { _ in allOnes ? 0xFF : UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { raw in
            for offset in [0, 1, 2, 3, 14] {
                for count in 0...300 {
                    for start: UInt64 in [0, 6, 0x1_2345] {
                        let got = InternetChecksum.fold(InternetChecksum.add(raw, offset: offset, count: count, to: start))
                        let expected = Self.reference(bytes, offset: offset, count: count, start: start)
                        // 0 and 0xFFFF are the same one's complement value; only an all-zero input gives 0.
                        #expect(got == expected || (got, expected) == (0xFFFF, 0) || (got, expected) == (0, 0xFFFF),
                                "offset \(offset) count \(count) start \(start)")
                        if got != expected { return }
                    }
                }
            }
        }
    }

    /// A header whose checksum field holds the right value sums to 0xFFFF.
    @Test func validIPv4HeaderSumsToAllOnes() {
        // 45 00 0073 0000 4000 40 11 b861 c0a80001 c0a800c7: the example header of RFC 1071's errata.
        let header: [UInt8] = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xB8, 0x61,
                               0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7]
        header.withUnsafeBytes { raw in
            #expect(InternetChecksum.fold(InternetChecksum.add(raw, offset: 0, count: 20, to: 0)) == 0xFFFF)
        }
        var broken = header
        broken[11] ^= 1
        broken.withUnsafeBytes { raw in
            #expect(InternetChecksum.fold(InternetChecksum.add(raw, offset: 0, count: 20, to: 0)) != 0xFFFF)
        }
    }
}
