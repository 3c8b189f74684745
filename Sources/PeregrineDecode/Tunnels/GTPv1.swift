// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// GTPv1 (3GPP TS 29.060/29.281) on UDP 2152 and 2123, as Zeek's binpac grammar and analyzer read it
/// (src/packet_analysis/protocol/gtpv1/gtpv1-protocol.pac, gtpv1-analyzer.pac, GTPv1.cc).
///
/// Header: flags (version in the top 3 bits, PT 0x10, E 0x04, S 0x02, PN 0x01), message type,
/// length (not checked by Zeek), TEID. If any of E/S/PN is set a 4-byte sequence/N-PDU/next-type
/// word follows; if E is set, extension headers follow, each `length` (in 4-byte units, ≥ 1),
/// `length * 4 - 2` content bytes and a next-type byte, until a next type of 0. The chain is bounded
/// by the payload: each header takes at least 4 bytes.
///
/// Only G-PDUs (message type 255) carry user packets; create/update/delete PDP context messages
/// (16–21) only raise events and other types are ignored, all without confirming.
public enum GTPv1 {
    /// The G-PDU message type.
    public static let gPDU: UInt8 = 0xFF

    /// Parses the GTPv1 header at `offset` (`length` bytes of UDP payload).
    ///
    /// A header cut short (binpac exception), a version other than 1, a G-PDU shorter than an IPv4
    /// header, a version nibble other than 4 or 6, or an inner length that does not match the bytes
    /// left is a violation. PT = 0 (GTP') and non-G-PDU messages stop quietly. A good G-PDU is valid
    /// (`Tunnel::delay_gtp_confirmation = F`, so it confirms at once).
    ///
    /// The engine checks two things first, because they need the encapsulation stack: depth
    /// (``TunnelKind/depthExceededWeird`` is `tunnel_depth` here) and GTP inside GTP, which Zeek
    /// treats as a violation (`GTP-in-GTP`).
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        let end = offset &+ len
        guard len >= 8, let flags = c.getUInt8(at: offset), let messageType = c.getUInt8(at: offset &+ 1) else {
            return .violation
        }
        var at = offset &+ 8
        if flags & 0x07 != 0 {
            guard end &- at >= 4 else { return .violation }
            at &+= 4
        }
        if flags & 0x04 != 0 {
            while true {
                guard at < end, let units = c.getUInt8(at: at), units > 0 else { return .violation }
                let size = Int(units) &* 4
                guard end &- at >= size, let next = c.getUInt8(at: at &+ size &- 1) else { return .violation }
                at &+= size
                if next == 0 { break }
            }
        }
        guard flags >> 5 == 1 else { return .violation }
        guard flags & 0x10 != 0, messageType == gPDU else { return .stop() }
        let innerLength = end &- at
        guard innerLength >= 20, let b0 = c.getUInt8(at: at) else { return .violation }
        let version = b0 >> 4
        guard version == 4 || version == 6 else { return .violation }
        guard InnerIPCheck.check(bytes, offset: at, length: innerLength, version: version) == .ok else {
            return .violation
        }
        return TunnelOutcome(
            payload: TunnelPayload(offset: at, length: innerLength, kind: version == 4 ? .ipv4 : .ipv6),
            verdict: .valid)
    }
}
