// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// GRE (IP protocol 47) as Zeek's GRE analyzer reads it (src/packet_analysis/protocol/gre/GRE.cc).
///
/// Version 0 (RFC 2784/2890): optional checksum (C, 0x8000), key (K, 0x2000) and sequence
/// (S, 0x1000) words; Zeek also counts the acknowledgement bit (A, 0x0080) in the header length.
/// Protocol 0x6558 carries Ethernet, 0x88BE ERSPAN type I (no S bit) or II (S bit: an 8-byte
/// ERSPAN header), 0x22EB ERSPAN type III (12-byte header plus an 8-byte platform subheader when
/// the last header bit is set), Aruba types carry 802.11, and every other type (0x0800, 0x86DD,
/// MPLS, ...) goes to the IP-tunnel analyzer as raw IP.
///
/// Version 1 (PPTP enhanced GRE, RFC 2637) must have protocol 0x880B; Zeek then always skips
/// 4 bytes of PPP (address, control, protocol: it does not handle compressed address/control) and
/// accepts PPP protocol 0x0021 (IPv4) or 0x0057 (IPv6); anything else (LCP, CCP, compressed
/// protocol fields) is `non_ip_packet_in_encap`. The inner packet must then pass
/// ``InnerIPCheck`` or decoding stops (IPTunnel.cc).
public enum GRE {
    /// IP protocol number of GRE.
    public static let ipProtocol: UInt8 = 47
    /// The PPTP protocol type of enhanced GRE.
    public static let pptpProtocolType: UInt16 = 0x880B

    /// The GRE header length implied by `flags` (C, K, S and A words; routing is refused instead).
    @inlinable
    public static func headerLength(flags: UInt16) -> Int {
        var n = 4
        if flags & 0x8000 != 0 { n &+= 4 }
        if flags & 0x2000 != 0 { n &+= 4 }
        if flags & 0x1000 != 0 { n &+= 4 }
        if flags & 0x0080 != 0 { n &+= 4 }
        return n
    }

    /// True for Aruba's GRE protocol types, which Zeek decodes as 802.11.
    @inlinable
    public static func isAruba(_ protocolType: UInt16) -> Bool {
        (protocolType & 0x8200 == 0x8200 && protocolType & 0x0F == 0)
            || (protocolType & 0x8300 == 0x8300 && protocolType & 0x0F == 0 && protocolType <= 0x8370)
            || protocolType == 0x9000
    }

    /// Parses the GRE header at `offset` (`length` bytes of IP payload).
    ///
    /// - Returns: the inner packet, or a stop with Zeek's weird. GRE never has a DPD verdict.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        guard len >= 4, let flags = c.getUInt16(at: offset), let proto = c.getUInt16(at: offset &+ 2) else {
            return .stop(.truncatedGRE)
        }
        let version = flags & 0x0007
        let greLength = headerLength(flags: flags)
        var pptpLength = 0
        var ethLength = 0
        var erspanLength = 0
        var kind = TunnelPayloadKind.rawIP
        guard version <= 1 else { return .stop(.unknownGREVersion) }
        if version == 0 {
            switch proto {
            case 0x6558:
                guard len > greLength &+ 14 else { return .stop(.truncatedGRE) }
                ethLength = 14
                kind = .ethernet
            case 0x88BE:
                guard len > greLength &+ 14 else { return .stop(.truncatedGRE) }
                ethLength = 14
                kind = .ethernet
                if flags & 0x1000 != 0 {
                    erspanLength = 8
                    guard len >= greLength &+ ethLength &+ erspanLength else { return .stop(.truncatedGRE) }
                }
            case 0x22EB:
                guard len > greLength &+ 14 &+ 12 else { return .stop(.truncatedGRE) }
                erspanLength = 12
                ethLength = 14
                kind = .ethernet
                // The last byte of the 12-byte ERSPAN III header ends with the O bit.
                guard let last = c.getUInt8(at: offset &+ greLength &+ 11) else { return .stop(.truncatedGRE) }
                if last & 0x01 != 0 {
                    guard len > greLength &+ erspanLength &+ 8 &+ ethLength else { return .stop(.truncatedGRE) }
                    erspanLength &+= 8
                }
            default:
                if isAruba(proto) {
                    guard len > greLength else { return .stop(.truncatedGRE) }
                    kind = .ieee80211
                }
            }
        } else {
            guard proto == pptpProtocolType else { return .stop(.egreProtocolType) }
            pptpLength = 4
        }
        // Zeek checks routing and the reserved bits only after the protocol checks above.
        if flags & 0x4000 != 0 { return .stop(.greRouting) }
        if flags & 0x0078 != 0 { return .stop(.unknownGREFlags) }
        guard len >= greLength &+ pptpLength &+ ethLength &+ erspanLength else { return .stop(.truncatedGRE) }

        if version == 1 {
            guard let ppp = c.getUInt16(at: offset &+ greLength &+ 2) else { return .stop(.truncatedGRE) }
            let ipVersion: UInt8
            switch ppp {
            case 0x0021: ipVersion = 4
            case 0x0057: ipVersion = 6
            default: return .stop(.nonIPPacketInEncap)
            }
            let start = offset &+ greLength &+ 4
            let innerLength = len &- greLength &- 4
            switch InnerIPCheck.check(bytes, offset: start, length: innerLength, version: ipVersion) {
            case .ok:
                return TunnelOutcome(
                    payload: TunnelPayload(offset: start, length: innerLength, kind: ipVersion == 4 ? .ipv4 : .ipv6))
            case .badProtocol:
                return .stop(.invalidInnerIPVersion)
            case .caplenTooSmall, .caplenTooLarge:
                // IPTunnel.cc means to raise truncated_inner_IP / inner_IP_payload_length_mismatch
                // here, but its comparisons against the ParseResult values can never be true, so
                // Zeek stops silently.
                return .stop()
            }
        }
        let skip = greLength &+ erspanLength
        return TunnelOutcome(payload: TunnelPayload(offset: offset &+ skip, length: len &- skip, kind: kind))
    }
}
