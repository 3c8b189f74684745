// SPDX-License-Identifier: Apache-2.0

/// An IPv4 or IPv6 address in 16 bytes, IPv4 held in its IPv4-mapped form (`::ffff:a.b.c.d`).
///
/// The two words hold the address as a 128-bit big-endian number (`high` = bytes 0-7), so
/// comparing `(high, low)` orders addresses the way their bytes do, which the symmetric flow key
/// relies on. The type is 16 bytes and trivially copyable: it is used on the packet path.
@frozen
public struct IPAddress: Hashable, Comparable, Sendable {
    /// Bytes 0-7 of the address, big-endian.
    public var high: UInt64
    /// Bytes 8-15 of the address, big-endian.
    public var low: UInt64

    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32-bit value in host order (`0x0A000001` is 10.0.0.1).
    @inlinable
    public init(ipv4 value: UInt32) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    /// Reads an IPv4 address (4 bytes, network order) at `offset`.
    @inlinable
    public init(ipv4At pointer: UnsafeRawPointer) {
        self.init(ipv4: UInt32(bigEndian: pointer.loadUnaligned(as: UInt32.self)))
    }

    /// Reads an IPv6 address (16 bytes, network order).
    @inlinable
    public init(ipv6At pointer: UnsafeRawPointer) {
        self.high = UInt64(bigEndian: pointer.loadUnaligned(as: UInt64.self))
        self.low = UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// The unspecified address `::`.
    public static let zero = IPAddress(high: 0, low: 0)

    /// True for IPv4 (IPv4-mapped) addresses.
    @inlinable
    public var isIPv4: Bool { high == 0 && (low >> 32) == 0x0000_FFFF }

    /// The IPv4 value in host order; meaningful only when `isIPv4`.
    @inlinable
    public var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    @inlinable
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    /// The 16 address bytes in network order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    /// Keeps the first `length` bits (of the 128-bit form; IPv4 prefixes add 96).
    public func masked(toPrefix length: Int) -> IPAddress {
        if length <= 0 { return .zero }
        if length >= 128 { return self }
        if length <= 64 {
            let mask: UInt64 = length == 64 ? ~0 : ~(~UInt64(0) >> UInt64(length))
            return IPAddress(high: high & mask, low: 0)
        }
        let mask: UInt64 = ~(~UInt64(0) >> UInt64(length - 64))
        return IPAddress(high: high, low: low & mask)
    }
}

extension IPAddress: CustomStringConvertible {
    /// Zeek's rendering: dotted quad for IPv4, RFC 5952 compressed lower-case text for IPv6.
    public var description: String {
        if isIPv4 {
            let v = ipv4Value
            return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
        }
        var groups = [UInt16](repeating: 0, count: 8)
        for i in 0..<4 {
            groups[i] = UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))
            groups[4 + i] = UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i)))
        }
        // RFC 5952 §4.2: compress the longest run (first if tied) of two or more zero groups.
        var bestStart = -1, bestLen = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                let len = i - runStart
                if len > bestLen && len >= 2 { bestStart = runStart; bestLen = len }
                runStart = -1
            }
        }
        // Zeek (inet_ntop) writes IPv4-compatible/mapped forms with a dotted tail only for ::ffff:0:0/96,
        // which isIPv4 already covers; everything else is plain hex groups.
        var out = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                out += "::"
                i += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[i], radix: 16)
            i += 1
        }
        return out
    }
}

extension IPAddress {
    /// Parses dotted-quad IPv4 or textual IPv6 (with `::` compression and an optional dotted tail).
    /// Returns `nil` for anything else.
    public init?(_ text: Substring) {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for p in parts {
                guard !p.isEmpty, p.count <= 3, let b = UInt32(p), b <= 255 else { return nil }
                value = value << 8 | b
            }
            self.init(ipv4: value)
            return
        }
        var head: [UInt16] = [], tail: [UInt16] = []
        var sawGap = false
        let pieces = text.components(separatedByString: "::")
        guard pieces.count <= 2 else { return nil }
        func parseGroups(_ s: Substring, into groups: inout [UInt16]) -> Bool {
            if s.isEmpty { return true }
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (index, p) in parts.enumerated() {
                if index == parts.count - 1 && p.contains(".") {
                    guard let v4 = IPAddress(p), v4.isIPv4 else { return false }
                    groups.append(UInt16(v4.ipv4Value >> 16))
                    groups.append(UInt16(v4.ipv4Value & 0xFFFF))
                    continue
                }
                guard !p.isEmpty, p.count <= 4, let g = UInt16(p, radix: 16) else { return false }
                groups.append(g)
            }
            return true
        }
        guard parseGroups(pieces[0], into: &head) else { return nil }
        if pieces.count == 2 {
            sawGap = true
            guard parseGroups(pieces[1], into: &tail) else { return nil }
        }
        let total = head.count + tail.count
        if sawGap ? total > 7 : total != 8 { return nil }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(groups[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(groups[i]) }
        self.init(high: hi, low: lo)
    }

    public init?(_ text: String) { self.init(Substring(text)) }
}

extension Substring {
    /// Splits on a multi-character separator (Foundation-free).
    fileprivate func components(separatedByString separator: String) -> [Substring] {
        var result: [Substring] = []
        var start = startIndex
        var i = startIndex
        let sep = Array(separator)
        while i < endIndex {
            var j = i, k = 0
            while k < sep.count, j < endIndex, self[j] == sep[k] { j = index(after: j); k += 1 }
            if k == sep.count {
                result.append(self[start..<i])
                start = j
                i = j
            } else {
                i = index(after: i)
            }
        }
        result.append(self[start..<endIndex])
        return result
    }
}

/// An IP prefix such as `10.0.0.0/8` or `fe80::/10` (Zeek's `subnet`).
public struct IPSubnet: Hashable, Sendable, CustomStringConvertible {
    /// The network address, already masked.
    public let network: IPAddress
    /// Prefix length in the 128-bit form (an IPv4 /8 is stored as 104).
    public let length128: Int

    /// Creates a subnet; `length` counts IPv4 bits for IPv4 networks.
    public init(network: IPAddress, length: Int) {
        let l = network.isIPv4 ? length + 96 : length
        self.length128 = l
        self.network = network.masked(toPrefix: l)
    }

    /// Parses `addr/len`; `nil` for malformed text or an out-of-range length.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let addr = IPAddress(parts[0]), let len = Int(parts[1]) else { return nil }
        guard len >= 0, len <= (addr.isIPv4 ? 32 : 128) else { return nil }
        self.init(network: addr, length: len)
    }

    /// True when `address` lies inside this prefix.
    @inlinable
    public func contains(_ address: IPAddress) -> Bool { address.masked(toPrefix: length128) == network }

    public var description: String { "\(network)/\(network.isIPv4 ? length128 - 96 : length128)" }
}
