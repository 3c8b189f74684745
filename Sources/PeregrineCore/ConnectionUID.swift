// SPDX-License-Identifier: Apache-2.0

/// A connection or file identifier in Zeek's format (`CHhAvVGS1DHFjwGM9`, `FB7E9n1ZwSgkhBhU27`).
///
/// Zeek (`src/UID.cc`, `bits_per_uid = 96`) draws 96 random bits into two 64-bit words, keeps the
/// low 32 bits of the first, and writes each word in base 62 (alphabet `0-9a-zA-Z`, least
/// significant digit first, no padding) after a one-letter prefix. The bits are stored; the text is
/// made only when a record is formatted, on the writer thread.
@frozen
public struct ConnectionUID: Hashable, Sendable {
    /// The first word (only its low 32 bits are used).
    public var word0: UInt64
    /// The second word.
    public var word1: UInt64

    @inlinable
    public init(word0: UInt64, word1: UInt64) {
        self.word0 = word0 & 0xFFFF_FFFF
        self.word1 = word1
    }

    /// The "no uid" value.
    public static let none = ConnectionUID(word0: 0, word1: 0)

    /// True unless this is `.none`.
    @inlinable
    public var isSet: Bool { word0 != 0 || word1 != 0 }

    /// The text with `prefix` (`C` for connections, `F` for files).
    public func string(prefix: Character = "C") -> String {
        var out = String(prefix)
        ConnectionUID.appendBase62(word0, to: &out)
        ConnectionUID.appendBase62(word1, to: &out)
        return out
    }

    /// Appends the UTF-8 bytes of the text to `buffer` (no intermediate String).
    public func write(prefix: UInt8 = UInt8(ascii: "C"), to buffer: inout [UInt8]) {
        buffer.append(prefix)
        ConnectionUID.appendBase62(word0, to: &buffer)
        ConnectionUID.appendBase62(word1, to: &buffer)
    }

    @usableFromInline
    static let alphabet: [UInt8] = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    static func appendBase62(_ value: UInt64, to out: inout String) {
        var v = value
        repeat {
            out.unicodeScalars.append(Unicode.Scalar(alphabet[Int(v % 62)]))
            v /= 62
        } while v > 0
    }

    static func appendBase62(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        repeat {
            out.append(alphabet[Int(v % 62)])
            v /= 62
        } while v > 0
    }
}

/// Draws identifiers from a xoshiro256** generator.
///
/// Production seeds it from the system's random source; tests pass a fixed seed so uids and record
/// order are reproducible (style.md §4.9, Zeek's `ZEEK_SEED_FILE`).
public struct UIDGenerator: Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator seeded from `seed` through SplitMix64 (any value, zero included, is fine).
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// A generator seeded from the system's random source.
    public init() { self.init(seed: UInt64.random(in: .min ... .max)) }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A fresh identifier; never `.none`.
    @inlinable
    public mutating func nextUID() -> ConnectionUID {
        while true {
            let uid = ConnectionUID(word0: next(), word1: next())
            if uid.isSet { return uid }
        }
    }
}
