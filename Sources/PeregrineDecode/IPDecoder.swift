// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Decodes an IPv4 or IPv6 header (with IPv6 extension headers) the way Zeek's IP analyzer
/// (`src/packet_analysis/protocol/ip/IP.cc`, `src/IP.cc`) checks it, with the same weirds in the same
/// order.
///
/// Lengths: a capture cut short (snaplen) is still decoded, with `capturedPayloadLength` below
/// `payloadLength`; an IP length beyond the packet's length on the wire stops with `truncated_IP_len`.
/// Fragments are flagged (`isFragment`); the caller hands a fragment to `FragmentReassembler` when
/// it is fully captured (`capturedPayloadLength == payloadLength`), and otherwise analyses a first
/// fragment as it is (Zeek does the same for header-only traces; non-first ones stop here).
/// The IPv6 walk stops, like Zeek's header chain, after a Fragment header, at ESP, at a header that
/// is not an extension header, or at a truncated extension header; in the last case
/// `transportProtocol` is that header's type, which no transport decoder takes.
/// Routing-header final destinations (deprecated type 0) are not applied.
public enum IPDecoder {
    /// Most IPv6 extension headers walked before the transport header. Zeek sets no limit other
    /// than the packet length; real traffic carries one or two, so 16 only cuts crafted chains
    /// (which then end as an unknown protocol, as a truncated chain does in Zeek).
    public static let maxIPv6ExtensionHeaders = 16

    /// Decodes the IP header at `offset` of a frame whose link layer announced `etherType`,
    /// assuming the frame was captured whole (wire length = `frame.count`).
    @inlinable
    public static func decode(
        _ frame: UnsafeRawBufferPointer, offset: Int, etherType: UInt16, verifyChecksum: Bool, into ip: inout IPLayer
    ) -> DecodeResult {
        decode(frame, wireLength: frame.count, offset: offset, etherType: etherType, verifyChecksum: verifyChecksum, into: &ip)
    }

    /// Decodes the IP header at `offset`; `wireLength` is the frame's length on the wire (pcap's
    /// `len`), which may exceed `frame.count` when the capture was cut. The version nibble decides v4
    /// or v6, as in Zeek; `etherType` is only the link layer's hint.
    @inlinable
    public static func decode(
        _ frame: UnsafeRawBufferPointer, wireLength: Int, offset: Int, etherType: UInt16, verifyChecksum: Bool,
        into ip: inout IPLayer
    ) -> DecodeResult {
        ip = IPLayer()
        guard offset >= 0, offset <= frame.count else { return .stop(.truncatedIP) }
        let len = frame.count &- offset
        guard len >= 20 else { return .stop(.truncatedIP) }
        ip.headerOffset = offset
        switch frame[offset] >> 4 {
        case 4: return ipv4(frame, wireLength: wireLength, offset: offset, verifyChecksum: verifyChecksum, into: &ip)
        case 6:
            guard len >= 40 else { return .stop(.truncatedIP) }
            return ipv6(frame, wireLength: wireLength, offset: offset, into: &ip)
        default: return .stop(.unknownIPVersion)
        }
    }

    @inlinable
    static func ipv4(
        _ frame: UnsafeRawBufferPointer, wireLength: Int, offset: Int, verifyChecksum: Bool, into ip: inout IPLayer
    ) -> DecodeResult {
        let len = frame.count &- offset
        ip.version = 4
        var total = Int(Wire.u16(frame, offset &+ 2))
        if total == 0 {
            // TCP segmentation offload zeroes the length; Zeek gives up unless checksums are ignored.
            guard !verifyChecksum else { return .stop(.ipHeaderLengthZero) }
            ip.anomaly = .ipHeaderLengthZero
            total = len
        }
        guard wireLength >= total &+ offset else { return .stop(.truncatedIPLength) }
        let headerLength = Int(frame[offset] & 0x0F) &* 4
        guard headerLength <= total else { return .stop(.invalidIPHeaderSize) }
        guard headerLength <= len else { return .stop(.internallyTruncatedHeaderIP) }
        guard headerLength >= 20 else { return .stop(.ipv4MinHeaderSize) }
        if verifyChecksum
            && InternetChecksum.fold(InternetChecksum.add(frame, offset: offset, count: headerLength, to: 0)) != 0xFFFF
        {
            return .stop(.badIPChecksum)
        }
        let fragField = Wire.u16(frame, offset &+ 6)
        ip.identification = UInt32(Wire.u16(frame, offset &+ 4))
        ip.dontFragment = fragField & 0x4000 != 0
        ip.moreFragments = fragField & 0x2000 != 0
        ip.fragmentOffset = Int(fragField & 0x1FFF) &* 8
        ip.isFragment = fragField & 0x3FFF != 0
        ip.ttl = frame[offset &+ 8]
        ip.transportProtocol = frame[offset &+ 9]
        ip.source = IPAddress(ipv4: Wire.u32(frame, offset &+ 12))
        ip.destination = IPAddress(ipv4: Wire.u32(frame, offset &+ 16))
        return finish(frame, offset: offset, headerLength: headerLength, total: total, into: &ip)
    }

    @inlinable
    static func ipv6(_ frame: UnsafeRawBufferPointer, wireLength: Int, offset: Int, into ip: inout IPLayer) -> DecodeResult {
        let len = frame.count &- offset
        ip.version = 6
        let total = Int(Wire.u16(frame, offset &+ 4)) &+ 40
        guard wireLength >= total &+ offset else { return .stop(.truncatedIPLength) }
        ip.ttl = frame[offset &+ 7]
        frame.baseAddress.map { base in
            ip.source = IPAddress(ipv6At: base + offset + 8)
            ip.destination = IPAddress(ipv6At: base + offset + 24)
        }
        // The extension-header walk over the captured bytes (Zeek `IPv6_Hdr_Chain::Init`).
        var next = frame[offset &+ 6]
        var headerLength = 40
        var count = 0
        walk: while count < maxIPv6ExtensionHeaders {
            let at = offset &+ headerLength
            let available = len &- headerLength
            let extLength: Int
            switch next {
            case 0, 43, 60:  // hop-by-hop, routing, destination options: (len + 1) * 8
                guard available >= 2 else { break walk }
                extLength = (Int(frame[at &+ 1]) &+ 1) &* 8
            case 44:  // fragment: 8 bytes
                extLength = 8
            case 51:  // AH: (len + 2) * 4
                guard available >= 2 else { break walk }
                extLength = (Int(frame[at &+ 1]) &+ 2) &* 4
            default:  // ESP (50) ends the walk without being counted, as its payload is opaque.
                break walk
            }
            guard extLength <= available else { break walk }
            let type = next
            next = frame[at]
            headerLength &+= extLength
            count &+= 1
            if type == 44 {
                let fragField = Wire.u16(frame, at &+ 2)
                ip.fragmentOffset = Int(fragField & 0xFFF8)
                ip.moreFragments = fragField & 0x0001 != 0
                ip.identification = Wire.u32(frame, at &+ 4)
                ip.isFragment = true
                break walk
            }
        }
        ip.transportProtocol = next
        guard headerLength <= total else { return .stop(.invalidIPHeaderSize) }
        let result = finish(frame, offset: offset, headerLength: headerLength, total: total, into: &ip)
        if case .ok = result, next == 59, !ip.isFragment { return .stop(.ipv6NoNext) }
        return result
    }

    /// Fills the length fields shared by both versions and applies Zeek's incomplete-fragment rule.
    @inlinable
    static func finish(
        _ frame: UnsafeRawBufferPointer, offset: Int, headerLength: Int, total: Int, into ip: inout IPLayer
    ) -> DecodeResult {
        let len = frame.count &- offset
        ip.headerLength = headerLength
        ip.totalLength = total
        ip.payloadOffset = offset &+ headerLength
        ip.payloadLength = total &- headerLength
        // Ethernet padding can make the capture longer than the IP packet: count only IP bytes.
        ip.capturedPayloadLength = min(len, total) &- headerLength
        if ip.isFragment && len < total {
            guard ip.fragmentOffset == 0 else { return .stop(.incompletelyCapturedFragment) }
            ip.anomaly = .incompletelyCapturedFragment
        }
        return .ok
    }
}
