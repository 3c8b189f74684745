// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// IP-in-IP, 6in4, 4in6 and 6in6: IP protocol 4 (IPv4 inside) or 41 (IPv6 inside).
///
/// Zeek's IP analyzer sends both protocol numbers to the IPTunnel analyzer
/// (`scripts/base/packet-protocols/ip/main.zeek`), which re-injects the IP payload as a new packet
/// of link type raw (src/packet_analysis/protocol/iptunnel/IPTunnel.cc, `ProcessEncapsulatedPacket`
/// with `DLT_RAW`). There is no header to parse and no version check against the protocol number:
/// an IPv6 packet behind protocol 4 is decoded as IPv6, and a bad version nibble is the raw IP
/// decoder's weird. Older Zeek raised `invalid_inner_IP_version` here; current Zeek only does so
/// for PPTP (see ``GRE``).
public enum IPInIP {
    /// IP protocol number announcing an IPv4 payload.
    public static let ipv4Protocol: UInt8 = 4
    /// IP protocol number announcing an IPv6 payload.
    public static let ipv6Protocol: UInt8 = 41

    /// True when `ipProtocol` is an IP-in-IP encapsulation.
    @inlinable
    public static func isTunnel(ipProtocol: UInt8) -> Bool {
        ipProtocol == ipv4Protocol || ipProtocol == ipv6Protocol
    }

    /// The inner packet: the whole IP payload at `offset`, to be decoded as raw IP.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        return TunnelOutcome(payload: TunnelPayload(offset: offset, length: len, kind: .rawIP))
    }
}
