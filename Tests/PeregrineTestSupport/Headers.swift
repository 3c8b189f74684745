// SPDX-License-Identifier: Apache-2.0

/// Header builders for decoder tests: each returns the header bytes with fields named.
public enum Headers {
    /// An Ethernet II header: destination MAC, source MAC, EtherType.
    public static func ethernet(type: UInt16, dst: UInt8 = 0x02, src: UInt8 = 0x04) -> [UInt8] {
        var b = PacketBuilder()
        b.append([0x00, 0x11, 0x22, 0x33, 0x44, dst])  // destination MAC
        b.append([0x00, 0x11, 0x22, 0x33, 0x44, src])  // source MAC
        b.append16(type)  // EtherType
        return b.bytes
    }

    /// An IPv4 header (no options) with a correct checksum unless `badChecksum`.
    public static func ipv4(
        proto: UInt8, payloadLength: Int, src: [UInt8] = [10, 0, 0, 1], dst: [UInt8] = [10, 0, 0, 2],
        id: UInt16 = 0x1234, flags: UInt16 = 0, fragmentOffset: Int = 0, ttl: UInt8 = 64, badChecksum: Bool = false
    ) -> [UInt8] {
        var b = PacketBuilder()
        b.append([0x45, 0x00])  // version 4, IHL 5; TOS
        b.append16(UInt16(20 + payloadLength))  // total length
        b.append16(id)  // identification
        b.append16(flags | UInt16(fragmentOffset / 8))  // flags (0x4000 DF, 0x2000 MF) + offset in 8-byte units
        b.append([ttl, proto])  // TTL, protocol
        b.append16(0)  // checksum, filled below
        b.append(src)  // source
        b.append(dst)  // destination
        var bytes = b.bytes
        let sum = PacketBuilder.internetChecksum(bytes) ^ (badChecksum ? 0x0101 : 0)
        bytes[10] = UInt8(sum >> 8)
        bytes[11] = UInt8(sum & 0xFF)
        return bytes
    }

    /// The 16-byte IPv6 address 2001:db8::`last`.
    public static func v6(_ last: UInt8) -> [UInt8] { [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [last] }

    /// An IPv6 fixed header.
    public static func ipv6(next: UInt8, payloadLength: Int, src: [UInt8] = v6(1), dst: [UInt8] = v6(2)) -> [UInt8] {
        var b = PacketBuilder()
        b.append([0x60, 0x00, 0x00, 0x00])  // version 6, traffic class, flow label
        b.append16(UInt16(payloadLength))  // payload length
        b.append([next, 64])  // next header, hop limit
        b.append(src)  // source
        b.append(dst)  // destination
        return b.bytes
    }

    /// A TCP header (no options) with the given flags; checksum left 0 (fill with `withChecksum`).
    public static func tcp(src: UInt16 = 1234, dst: UInt16 = 80, seq: UInt32 = 1000, ack: UInt32 = 0, flags: UInt8 = 0x02) -> [UInt8] {
        var b = PacketBuilder()
        b.append16(src)  // source port
        b.append16(dst)  // destination port
        b.append32(seq)  // sequence number
        b.append32(ack)  // acknowledgement number
        b.append([0x50, flags])  // data offset 5, flags
        b.append16(65535)  // window
        b.append16(0)  // checksum
        b.append16(0)  // urgent pointer
        return b.bytes
    }

    /// A UDP header for `payloadLength` bytes of payload; checksum left 0.
    public static func udp(src: UInt16 = 5353, dst: UInt16 = 53, payloadLength: Int) -> [UInt8] {
        var b = PacketBuilder()
        b.append16(src)  // source port
        b.append16(dst)  // destination port
        b.append16(UInt16(8 + payloadLength))  // length
        b.append16(0)  // checksum
        return b.bytes
    }

    /// Fills the transport checksum at `checksumOffset` of `segment` using the IPv4 or IPv6 pseudo-header.
    public static func withChecksum(_ segment: [UInt8], checksumOffset: Int, proto: UInt8, src: [UInt8], dst: [UInt8]) -> [UInt8] {
        var pseudo = src + dst
        if src.count == 4 {
            pseudo += [0, proto, UInt8(segment.count >> 8), UInt8(segment.count & 0xFF)]
        } else {
            pseudo += [0, 0, UInt8(segment.count >> 8), UInt8(segment.count & 0xFF), 0, 0, 0, proto]
        }
        var s = segment
        let sum = PacketBuilder.internetChecksum(pseudo + segment)
        s[checksumOffset] = UInt8(sum >> 8)
        s[checksumOffset + 1] = UInt8(sum & 0xFF)
        return s
    }
}
