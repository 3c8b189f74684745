// SPDX-License-Identifier: Apache-2.0

/// Builds test frames byte by byte with helpers for the common headers.
public struct PacketBuilder {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func append(_ more: [UInt8]) { bytes += more }
    public mutating func append16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    public mutating func append32(_ v: UInt32) {
        bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    /// The RFC 1071 Internet checksum of `data`.
    public static func internetChecksum(_ data: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < data.count { sum += UInt32(data[i]) << 8 | UInt32(data[i + 1]); i += 2 }
        if i < data.count { sum += UInt32(data[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
