// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Decodes the link layer of a frame down to the network header: Ethernet II (with Cisco
/// FabricPath), 802.1Q/802.1ad/QinQ, MPLS, PPPoE session, Linux cooked v1/v2, BSD null/loop and
/// raw IP, following Zeek's packet analyzers (`src/packet_analysis/protocol/<layer>/`).
///
/// On `.ok`, `link.networkOffset` is where the network header starts and `link.etherType` says what
/// it is: `0x0800`/`0x86DD` for IP (the IP decoder then trusts the version nibble, as Zeek's IP
/// analyzer does), any other EtherType (ARP, PBB, ...) unchanged so the caller can skip it quietly.
/// `.stop(nil)` means a frame Zeek hands to no analyzer (802.3 LLC/SNAP/Novell frames, PPP control
/// protocols, unknown address families): no weird, nothing more to decode.
public enum LinkDecoder {
    /// Most VLAN tags plus PPPoE headers walked in one frame, and separately the most MPLS labels
    /// popped. Zeek sets no limit (every header consumes bytes, so the frame bounds the walk); real
    /// stacks use 2 tags (QinQ) and 2–3 labels (MPLS VPNs), so 16 only stops crafted frames, which
    /// end with `.stop(nil)`.
    public static let maxEncapsulationDepth = 16

    /// Decodes the link layer of `frame`, captured with link type `linkType`, into `link`.
    @inlinable
    public static func decode(
        _ frame: UnsafeRawBufferPointer, linkType: LinkType, into link: inout LinkLayer
    ) -> DecodeResult {
        link = LinkLayer()
        let n = frame.count
        switch linkType {
        case .ethernet:
            // The common frame first: Ethernet II carrying IPv4 or IPv6 directly.
            if n > 16 {
                let type = Wire.u16(frame, 12)
                if type == 0x0800 || type == 0x86DD {
                    link.destinationMAC = mac(frame, at: 0)
                    link.sourceMAC = mac(frame, at: 6)
                    link.etherType = type
                    link.networkOffset = 14
                    return .ok
                }
            }
            return ethernet(frame, into: &link)
        case .raw, .ipv4, .ipv6:
            return ipByVersion(frame, at: 0, into: &link)
        case .null, .loop:
            // Zeek: `4 >= len` fails; the family is little-endian for null (the usual capture host's
            // order, as Zeek reads it) and network order for OpenBSD loop.
            guard n > 4 else { return .stop(.nullAnalyzerFailed) }
            let family: UInt32 =
                linkType == .null
                ? UInt32(frame[0]) | UInt32(frame[1]) << 8 | UInt32(frame[2]) << 16 | UInt32(frame[3]) << 24
                : Wire.u32(frame, 0)
            link.networkOffset = 4
            switch family {
            case 2:
                link.etherType = 0x0800
                return .ok
            case 24, 28, 30:  // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin
                link.etherType = 0x86DD
                return .ok
            default:
                return .stop(nil)
            }
        case .linuxSLL:
            guard n > 16 else { return .stop(.truncatedLinuxSLLHeader) }
            link.sourceMAC = mac(frame, at: 6)
            return dispatch(frame, etherType: Wire.u16(frame, 14), at: 16, into: &link)
        case .linuxSLL2:
            guard n > 20 else { return .stop(.truncatedLinuxSLL2Header) }
            link.sourceMAC = mac(frame, at: 12)
            return dispatch(frame, etherType: Wire.u16(frame, 0), at: 20, into: &link)
        }
    }

    /// Ethernet II / 802.3 (Zeek `Ethernet.cc`).
    @inlinable
    static func ethernet(_ frame: UnsafeRawBufferPointer, into link: inout LinkLayer) -> DecodeResult {
        let n = frame.count
        guard n > 16 else { return .stop(.truncatedEthernetFrame) }
        var base = 0
        if frame[12] == 0x89 && frame[13] == 0x03 {  // Cisco FabricPath: a 16-byte outer header
            guard n > 16 + 14 else { return .stop(.truncatedLinkHeaderCFP) }
            base = 16
        }
        link.destinationMAC = mac(frame, at: base)
        link.sourceMAC = mac(frame, at: base &+ 6)
        let proto = Wire.u16(frame, base &+ 12)
        if proto >= 1536 {
            return dispatch(frame, etherType: proto, at: base &+ 14, into: &link)
        }
        link.networkOffset = base &+ 14
        if proto <= 1500 {
            // 802.3 length frame: LLC, SNAP or Novell raw, none of which Zeek decodes by default.
            if n &- base &- 14 < Int(proto) { return .stop(.truncatedEthernetFrame) }
            return .stop(nil)
        }
        return .stop(.undefinedEtherType)
    }

    /// Follows EtherTypes through VLAN tags, MPLS and PPPoE until IP or an EtherType left to the caller.
    @inlinable
    static func dispatch(
        _ frame: UnsafeRawBufferPointer, etherType: UInt16, at offset: Int, into link: inout LinkLayer
    ) -> DecodeResult {
        let n = frame.count
        var type = etherType
        var off = offset
        var depth = 0
        var tags = 0
        while true {
            link.etherType = type
            link.networkOffset = off
            switch type {
            case 0x8100, 0x88A8, 0x9100:  // 802.1Q, 802.1ad, pre-standard QinQ (Zeek `VLAN.cc`)
                depth &+= 1
                guard depth <= maxEncapsulationDepth else { return .stop(nil) }
                guard n &- off > 4 else { return .stop(.truncatedVLANHeader) }
                let id = Wire.u16(frame, off) & 0x0FFF
                if tags == 0 {
                    link.vlan = id
                } else {
                    if tags >= 2 { link.anomaly = .tripleTaggedVLANUnsupported }
                    link.innerVlan = id
                }
                tags &+= 1
                let proto = Wire.u16(frame, off &+ 2)
                off &+= 4
                if proto >= 1536 {
                    type = proto
                    continue
                }
                link.networkOffset = off
                if proto <= 1500 {
                    link.etherType = 0
                    guard n &- off >= 2 else { return .stop(.truncatedVLANHeader) }
                    return .stop(nil)
                }
                return .stop(.undefinedVLANProtocol)
            case 0x8847, 0x8848:  // MPLS unicast/multicast (Zeek `MPLS.cc`)
                var labels = 0
                var bottom = false
                while !bottom {
                    labels &+= 1
                    guard labels <= maxEncapsulationDepth else { return .stop(nil) }
                    guard n &- off > 4 else { return .stop(.truncatedLinkHeaderMPLS) }
                    bottom = frame[off &+ 2] & 0x01 != 0
                    off &+= 4
                }
                // RFC 3032 does not encode the payload protocol; Zeek's default is its IP analyzer.
                return ipByVersion(frame, at: off, into: &link)
            case 0x8864:  // PPPoE session (Zeek `PPPoE.cc`): 6-byte header + 2-byte PPP protocol
                depth &+= 1
                guard depth <= maxEncapsulationDepth else { return .stop(nil) }
                guard n &- off > 8 else { return .stop(.truncatedPPPoEHeader) }
                let ppp = Wire.u16(frame, off &+ 6)
                off &+= 8
                switch ppp {
                case 0x0021: type = 0x0800
                case 0x0057: type = 0x86DD
                default:
                    link.networkOffset = off
                    return .stop(nil)
                }
            default:
                return .ok
            }
        }
    }

    /// Marks the bytes at `offset` as IP, v6 when the version nibble says 6, else v4 (the IP decoder
    /// raises `truncated_IP`/`unknown_ip_version` as Zeek's IP analyzer does).
    @inlinable
    static func ipByVersion(_ frame: UnsafeRawBufferPointer, at offset: Int, into link: inout LinkLayer) -> DecodeResult {
        link.networkOffset = offset
        link.etherType = offset < frame.count && frame[offset] >> 4 == 6 ? 0x86DD : 0x0800
        return .ok
    }

    /// The 6-byte MAC at `offset` in the low 48 bits.
    @inlinable
    static func mac(_ frame: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(Wire.u16(frame, offset)) << 32 | UInt64(Wire.u32(frame, offset &+ 2))
    }
}
