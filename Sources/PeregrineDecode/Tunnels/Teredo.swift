// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Teredo (RFC 4380) on UDP 3544 or wherever ``detect(_:offset:length:)`` recognises it, as
/// src/packet_analysis/protocol/teredo/Teredo.cc reads it.
///
/// Optional headers come before the IPv6 packet, each at most once and in this order: an
/// authentication header (tag 0x0001; client id length, auth length, id, auth, 8-byte nonce,
/// confirmation byte) and an origin indication (tag 0x0000, 8 bytes). A first nibble of 6 starts
/// the IPv6 packet.
///
/// Confirmation: each valid packet marks its direction valid; with `Tunnel::delay_teredo_confirmation
/// = T` (the default) the connection confirms, and gets service `teredo`, only once both directions
/// had one. A connection on 3544 whose only valid packets went one way keeps service `-` although
/// its inner packets are still decapsulated (corpus case teredo, uid `CmES5u32sYpV7JYN`: SHR).
public enum Teredo {
    /// Parses the Teredo encapsulation at `offset` (`length` bytes of UDP payload).
    ///
    /// Truncation weirds are written only when the connection is already confirmed
    /// (`weirdOnlyIfConfirmed`), and come with a violation. An unknown tag, a repeated header or
    /// authentication after an origin indication is a violation without a weird. A bubble (next
    /// header 59, payload length 0) with trailing bytes is forwarded with the forced weird
    /// `Teredo_bubble_with_payload`; any other length mismatch is a violation.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        let end = offset &+ len
        var at = offset
        var sawOrigin = false
        var sawAuth = false
        // At most three rounds: authentication, origin indication, IPv6.
        while true {
            guard end &- at >= 2, let tag = c.getUInt16(at: at) else {
                return truncation(.truncatedTeredo)
            }
            if tag == 0 {
                guard !sawOrigin else { return .violation }
                guard end &- at >= 8 else { return truncation(.truncatedTeredoOriginIndication) }
                sawOrigin = true
                at &+= 8
            } else if tag == 1 {
                guard !sawOrigin, !sawAuth else { return .violation }
                guard end &- at >= 4, let idLength = c.getUInt8(at: at &+ 2), let authLength = c.getUInt8(at: at &+ 3)
                else { return truncation(.truncatedTeredoAuthentication) }
                let total = 4 &+ Int(idLength) &+ Int(authLength) &+ 9
                guard end &- at >= total else { return truncation(.truncatedTeredoAuthentication) }
                sawAuth = true
                at &+= total
            } else if tag >> 12 == 6 {
                break
            } else {
                return .violation
            }
        }
        let innerLength = end &- at
        guard innerLength >= 40 else { return truncation(.truncatedIPv6InTeredo) }
        let payload = TunnelPayload(offset: at, length: innerLength, kind: .ipv6)
        switch InnerIPCheck.check(bytes, offset: at, length: innerLength, version: 6) {
        case .ok:
            return TunnelOutcome(payload: payload, verdict: .valid)
        case .caplenTooLarge:
            guard isBubble(bytes, payload: payload) else { return .violation }
            return TunnelOutcome(payload: payload, weird: .teredoBubbleWithPayload, verdict: .valid)
        case .caplenTooSmall, .badProtocol:
            return .violation
        }
    }

    @inlinable
    static func truncation(_ weird: Weird) -> TunnelOutcome {
        TunnelOutcome(payload: nil, weird: weird, weirdOnlyIfConfirmed: true, verdict: .violation)
    }

    /// True when the IPv6 packet of `payload` is a Teredo bubble: next header 59 (no next header)
    /// and payload length 0. Zeek raises `teredo_bubble` for it, and the IP layer then stops without
    /// its usual `ipv6_no_next` weird because the innermost tunnel is Teredo (ip/IP.cc); a bubble
    /// makes no inner connection.
    @inlinable
    public static func isBubble(_ bytes: UnsafeRawBufferPointer, payload: TunnelPayload) -> Bool {
        let c = ByteCursor(bytes)
        return payload.length >= 40 && c.getUInt16(at: payload.offset &+ 4) == 0
            && c.getUInt8(at: payload.offset &+ 6) == 59
    }

    /// Zeek's Teredo detection for UDP packets on ports not registered for Teredo
    /// (`TeredoAnalyzer::DetectProtocol`). It is run per packet, so only the packets it accepts on
    /// such a connection are decapsulated.
    ///
    /// Accepted: (1) exactly 40 bytes (a bare IPv6 header, i.e. a bubble) with a first byte 0x60–0x6F
    /// and 2001:0000::/32 (the Teredo prefix) as source or destination prefix; Zeek matches this with
    /// a regular expression whose `.` does not match 0x0A, so a newline byte in the other positions
    /// defeats it. (2) An authentication header (second byte 0x01) whose lengths leave 40 bytes,
    /// followed by an origin indication and an IPv6 version nibble. (3) An origin indication
    /// (second byte 0x00) followed by at least 40 bytes starting with nibble 6. Plain IPv6 packets
    /// without these headers are not recognised unless (1) applies.
    @inlinable
    public static func detect(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> Bool {
        var len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        guard len >= 40, let b0 = c.getUInt8(at: offset), let b1 = c.getUInt8(at: offset &+ 1) else { return false }
        if b0 >> 4 != 6 && (b0 != 0 || (b1 != 0 && b1 != 1)) { return false }
        // A bare IPv6 packet is Teredo when either address carries the Teredo prefix 2001:0::/32
        // (Zeek's pattern: the prefix after 8 or 24 bytes; the pattern is matched as a prefix of
        // the payload, so longer packets than a 40-byte bubble qualify too).
        if b0 >> 4 == 6 {
            return prefixMatch(bytes, offset: offset, at: 8) || prefixMatch(bytes, offset: offset, at: 24)
        }
        var at = offset
        var tag = UInt16(b1)
        if tag == 1 {
            guard let idLength = c.getUInt8(at: at &+ 2), let authLength = c.getUInt8(at: at &+ 3) else { return false }
            let skip = 13 &+ Int(idLength) &+ Int(authLength)
            guard len >= skip else { return false }
            at &+= skip
            len &-= skip
            guard len >= 40, let t = c.getUInt16(at: at) else { return false }
            tag = t
        }
        guard tag == 0, len >= 48, let v = c.getUInt8(at: at &+ 8) else { return false }
        return v >> 4 == 6
    }

    /// The regular-expression half of ``detect(_:offset:length:)`` for a 40-byte payload:
    /// 20 01 00 00 at `at`, and no 0x0A byte in the positions its `.` wildcards cover.
    @inlinable
    static func prefixMatch(_ bytes: UnsafeRawBufferPointer, offset: Int, at: Int) -> Bool {
        let c = ByteCursor(bytes)
        guard c.getUInt32(at: offset &+ at) == 0x2001_0000 else { return false }
        var i = 1
        while i < 40 {
            if (i < at || i >= at &+ 4), c.getUInt8(at: offset &+ i) == 0x0A { return false }
            i &+= 1
        }
        return true
    }
}
