// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Decodes the TCP, UDP, ICMP or ICMPv6 header after an IP header, with Zeek's checks
/// (`IPBasedAnalyzer::CheckHeaderTrunc`, `TCPAnalyzer::ExtractTCP_Header`, `UDPAnalyzer`,
/// `ICMPAnalyzer`).
///
/// A wrong checksum does not stop decoding: `checksumValid` becomes false and the session layer
/// raises `bad_TCP_checksum` / `bad_UDP_checksum` / `bad_ICMP_checksum`. Checksums are verified
/// only when the whole segment was captured, as in Zeek. Payload fields:
/// - TCP: after the header with options; `payloadLength` = IP payload length − data offset.
/// - UDP: after the 8-byte header; `payloadLength` = UDP length field − 8 (what Zeek counts in
///   conn.log's bytes; it can be negative for a bogus length field, which the session layer
///   reports as `UDP_datagram_length_mismatch` by comparing with `ip.payloadLength − 8`);
///   `capturedPayloadLength` = the bytes Zeek forwards, min(IP payload, captured) − 8.
/// - ICMP/ICMPv6: after the 8-byte header (type, code, checksum and the 4-byte rest-of-header),
///   Zeek's `ICMP_MINLEN`; `payloadLength` = IP payload length − 8.
/// Any other protocol returns `.stop(nil)`.
public enum TransportDecoder {
    /// VXLAN's UDP port, whose zero checksum over IPv6 Zeek accepts (`Tunnel::vxlan_ports`).
    public static let vxlanPort: UInt16 = 4789

    /// Decodes the transport header of `ip` (decoded from `frame`) into `t`.
    @inlinable
    public static func decode(
        _ frame: UnsafeRawBufferPointer, ip: IPLayer, verifyChecksum: Bool, into t: inout TransportLayer
    ) -> DecodeResult {
        t = TransportLayer()
        guard ip.isConsistent(with: frame) else { return .stop(nil) }
        switch ip.transportProtocol {
        case 6: return tcp(frame, ip: ip, verifyChecksum: verifyChecksum, into: &t)
        case 17: return udp(frame, ip: ip, verifyChecksum: verifyChecksum, into: &t)
        case 1, 58: return icmp(frame, ip: ip, verifyChecksum: verifyChecksum, into: &t)
        default: return .stop(nil)
        }
    }

    /// Zeek's `CheckHeaderTrunc`: 0 when `minimum` bytes are there, 1 for `truncated_header` (the IP
    /// length is too short), 2 for `internally_truncated_header` (the capture is too short). A code
    /// rather than a `Weird`, so the happy path touches no weird globals.
    @inlinable
    static func headerTruncation(ip: IPLayer, minimum: Int) -> Int {
        if ip.payloadLength != 0 && ip.payloadLength < minimum { return 1 }
        if ip.capturedPayloadLength < minimum { return 2 }
        return 0
    }

    /// The folded checksum sum over `length` bytes of the transport segment with its pseudo-header.
    @inlinable
    static func segmentSum(_ frame: UnsafeRawBufferPointer, ip: IPLayer, proto: UInt8, length: Int) -> UInt16 {
        let pseudo = InternetChecksum.pseudoHeader(frame, ip: ip, proto: proto, length: length)
        return InternetChecksum.fold(InternetChecksum.add(frame, offset: ip.payloadOffset, count: length, to: pseudo))
    }

    @inlinable
    static func tcp(_ frame: UnsafeRawBufferPointer, ip: IPLayer, verifyChecksum: Bool, into t: inout TransportLayer)
        -> DecodeResult
    {
        switch headerTruncation(ip: ip, minimum: 20) {
        case 0: break
        case 1: return .stop(.truncatedHeaderTCP)
        default: return .stop(.internallyTruncatedHeaderTCP)
        }
        let o = ip.payloadOffset
        // Segmentation offload can leave the IP length 0: Zeek then uses the captured length.
        let len = ip.payloadLength != 0 ? ip.payloadLength : ip.capturedPayloadLength
        let remaining = ip.capturedPayloadLength
        let headerLength = Int(frame[o &+ 12] >> 4) &* 4
        guard headerLength >= 20 else { return .stop(.badTCPHeaderLength) }
        guard headerLength <= len && headerLength <= remaining else { return .stop(.truncatedHeaderTCP) }
        t.sourcePort = Wire.u16(frame, o)
        t.destinationPort = Wire.u16(frame, o &+ 2)
        t.sequence = Wire.u32(frame, o &+ 4)
        t.acknowledgement = Wire.u32(frame, o &+ 8)
        t.flags = TCPFlags(rawValue: frame[o &+ 13])
        t.window = Wire.u16(frame, o &+ 14)
        t.payloadOffset = o &+ headerLength
        t.payloadLength = len &- headerLength
        t.capturedPayloadLength = min(len, remaining) &- headerLength
        if verifyChecksum && remaining >= len {
            t.checksumValid = segmentSum(frame, ip: ip, proto: 6, length: len) == 0xFFFF
        }
        return .ok
    }

    @inlinable
    static func udp(_ frame: UnsafeRawBufferPointer, ip: IPLayer, verifyChecksum: Bool, into t: inout TransportLayer)
        -> DecodeResult
    {
        switch headerTruncation(ip: ip, minimum: 8) {
        case 0: break
        case 1: return .stop(.truncatedHeaderUDP)
        default: return .stop(.internallyTruncatedHeaderUDP)
        }
        let o = ip.payloadOffset
        let len = ip.payloadLength != 0 ? ip.payloadLength : ip.capturedPayloadLength
        let remaining = ip.capturedPayloadLength
        t.sourcePort = Wire.u16(frame, o)
        t.destinationPort = Wire.u16(frame, o &+ 2)
        let udpLength = Int(Wire.u16(frame, o &+ 4))
        let checksum = Wire.u16(frame, o &+ 6)
        t.payloadOffset = o &+ 8
        t.payloadLength = udpLength &- 8
        t.capturedPayloadLength = min(len, remaining) &- 8
        if verifyChecksum && remaining >= len {
            var validate = true
            // VXLAN on its port sends a zero checksum even over IPv6 (I flag in the VXLAN header).
            if len > 8 + 8 + 14 && frame[o &+ 8] & 0x08 != 0 && t.destinationPort == vxlanPort && checksum == 0 {
                validate = false
            }
            // Over IPv4 a zero checksum means "not computed"; over IPv6 it is mandatory.
            if ip.version == 4 && checksum == 0 { validate = false }
            if validate {
                t.checksumValid = segmentSum(frame, ip: ip, proto: 17, length: len) == 0xFFFF
            }
        }
        return .ok
    }

    @inlinable
    static func icmp(_ frame: UnsafeRawBufferPointer, ip: IPLayer, verifyChecksum: Bool, into t: inout TransportLayer)
        -> DecodeResult
    {
        switch headerTruncation(ip: ip, minimum: 8) {
        case 0: break
        case 1: return .stop(.truncatedHeaderICMP)
        default: return .stop(.internallyTruncatedHeaderICMP)
        }
        let o = ip.payloadOffset
        let len = ip.payloadLength != 0 ? ip.payloadLength : ip.capturedPayloadLength
        let remaining = ip.capturedPayloadLength
        t.icmpType = frame[o]
        t.icmpCode = frame[o &+ 1]
        t.payloadOffset = o &+ 8
        t.payloadLength = len &- 8
        t.capturedPayloadLength = min(len, remaining) &- 8
        if verifyChecksum && remaining >= len {
            if ip.transportProtocol == 1 {
                // ICMPv4 has no pseudo-header.
                t.checksumValid =
                    InternetChecksum.fold(InternetChecksum.add(frame, offset: o, count: len, to: 0)) == 0xFFFF
            } else {
                t.checksumValid = segmentSum(frame, ip: ip, proto: 58, length: len) == 0xFFFF
            }
        }
        return .ok
    }
}

extension IPLayer {
    /// True when the offsets lie inside `frame` as `IPDecoder` leaves them, so that an `IPLayer`
    /// that did not come from this frame cannot make a decoder read outside it.
    @inlinable
    func isConsistent(with frame: UnsafeRawBufferPointer) -> Bool {
        headerOffset >= 0 && capturedPayloadLength >= 0
            && headerOffset &+ (version == 4 ? 20 : 40) <= payloadOffset
            && payloadOffset &+ capturedPayloadLength <= frame.count
    }
}

/// IGMP checksum validation, as Zeek's spicy IGMP analyzer does it before parsing a message.
public enum IGMPDecoder {
    /// Returns `igmp_invalid_checksum` when the IGMP message (IP protocol 2) of `ip` has a wrong
    /// checksum, nil when it is right or the packet is not IGMP. The checksum covers the captured
    /// IP payload, like Zeek's analyzer, which sees the bytes up to the end of the data.
    @inlinable
    public static func validate(_ frame: UnsafeRawBufferPointer, ip: IPLayer) -> Weird? {
        guard ip.transportProtocol == 2, ip.capturedPayloadLength >= 4, ip.isConsistent(with: frame) else { return nil }
        let sum = InternetChecksum.fold(
            InternetChecksum.add(frame, offset: ip.payloadOffset, count: ip.capturedPayloadLength, to: 0))
        return sum == 0xFFFF ? nil : .igmpInvalidChecksum
    }
}
