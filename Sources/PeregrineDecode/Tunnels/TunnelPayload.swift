// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// How the bytes after a tunnel header are to be decoded.
public enum TunnelPayloadKind: UInt8, Sendable {
    /// An Ethernet II frame (VXLAN, Geneve 0x6558, GRE 0x6558 and ERSPAN).
    case ethernet
    /// Raw IP, decoded as `LinkType.raw`: the version nibble picks IPv4 or IPv6 and a bad nibble is
    /// the IP decoder's weird. Zeek hands IP-in-IP, GRE version 0 and AYIYA payloads on this way,
    /// without comparing the nibble to the outer protocol number.
    case rawIP
    /// An IPv4 packet the tunnel parser already checked (version 4, total length = bytes left).
    case ipv4
    /// An IPv6 packet the tunnel parser already checked (version 6, payload length + 40 = bytes left,
    /// except a Teredo bubble with trailing bytes).
    case ipv6
    /// ARP (Geneve protocol type 0x0806).
    case arp
    /// IEEE 802.11 (Aruba's GRE protocol types); Zeek decodes these with its 802.11 analyzer.
    case ieee80211
}

/// Where the inner packet of a tunnel starts and what it is.
@frozen
public struct TunnelPayload: Sendable, Equatable {
    /// Offset of the inner packet in the buffer that was parsed.
    public var offset: Int
    /// Captured bytes of the inner packet (to the end of the outer payload).
    public var length: Int
    /// How to decode it.
    public var kind: TunnelPayloadKind

    /// Makes a payload description.
    @inlinable
    public init(offset: Int, length: Int, kind: TunnelPayloadKind) {
        self.offset = offset
        self.length = length
        self.kind = kind
    }
}

/// What a UDP tunnel analyzer tells Zeek's DPD about the outer connection.
public enum TunnelVerdict: UInt8, Sendable {
    /// Nothing: the packet neither confirms nor violates (e.g. a GTP control message, an AYIYA
    /// non-forward opcode, a GRE or IP-in-IP packet, which have no outer connection).
    case none
    /// The packet was a valid encapsulation: `AnalyzerConfirmation`, which adds the kind's
    /// ``TunnelKind/service`` to the outer connection. For Teredo it only counts once both
    /// directions were valid (``TunnelKind/confirmationNeedsBothDirections``).
    case valid
    /// `AnalyzerViolation`: once a connection's tunnel analyzer is violated, Zeek ignores all its
    /// later packets (`AnalyzerViolated(session)` at the top of each UDP tunnel analyzer).
    case violation
}

/// The result of parsing one tunnel header: the inner packet (if any), a weird (if any) and the
/// DPD verdict for the outer UDP connection.
@frozen
public struct TunnelOutcome: Sendable {
    /// The inner packet to decode next, or `nil` when decoding stops here.
    public var payload: TunnelPayload?
    /// The weird Zeek raises for this packet, if any. A weird can come with a payload (Teredo's
    /// `Teredo_bubble_with_payload`) and with a verdict (`vxlan_empty_packet` after confirming).
    public var weird: Weird?
    /// True when Zeek writes `weird` only if the outer connection's analyzer is already confirmed
    /// (Teredo's non-forced weirds, `TeredoAnalyzer::Weird` in teredo/Teredo.h).
    public var weirdOnlyIfConfirmed: Bool
    /// The DPD verdict for the outer connection.
    public var verdict: TunnelVerdict

    /// Makes an outcome.
    @inlinable
    public init(
        payload: TunnelPayload?, weird: Weird? = nil, weirdOnlyIfConfirmed: Bool = false,
        verdict: TunnelVerdict = .none
    ) {
        self.payload = payload
        self.weird = weird
        self.weirdOnlyIfConfirmed = weirdOnlyIfConfirmed
        self.verdict = verdict
    }

    /// Decoding stops with `weird` (or quietly when `nil`) and no verdict.
    @inlinable
    public static func stop(_ weird: Weird? = nil) -> TunnelOutcome {
        TunnelOutcome(payload: nil, weird: weird)
    }

    /// Decoding stops with an analyzer violation on the outer connection.
    @inlinable
    public static var violation: TunnelOutcome {
        TunnelOutcome(payload: nil, verdict: .violation)
    }
}

/// Zeek's `packet_analysis::IP::ParsePacket` check of a tunnelled IP packet (ip/IP.cc): the header
/// must be there, its version must be the one expected, and its stated length must equal the bytes
/// left.
public enum InnerIPCheck: Int8, Sendable {
    /// Version matches and the stated length equals the captured length.
    case ok = 0
    /// Fewer bytes than the header states (or, for IPv6, than a 40-byte header).
    case caplenTooSmall = -1
    /// Wrong version nibble, or an IPv4 packet shorter than 20 bytes (Zeek's order of checks).
    case badProtocol = -2
    /// More bytes than the header states.
    case caplenTooLarge = 1

    /// Checks the IP packet at `offset` (`length` bytes) against the expected `version` (4 or 6).
    @inlinable
    public static func check(
        _ bytes: UnsafeRawBufferPointer, offset: Int, length: Int, version: UInt8
    ) -> InnerIPCheck {
        let c = ByteCursor(bytes)
        let stated: Int
        if version == 6 {
            guard length >= 40, let b0 = c.getUInt8(at: offset), let plen = c.getUInt16(at: offset &+ 4) else {
                return .caplenTooSmall
            }
            guard b0 >> 4 == 6 else { return .badProtocol }
            stated = Int(plen) &+ 40
        } else if version == 4 {
            guard length >= 20, let b0 = c.getUInt8(at: offset), let total = c.getUInt16(at: offset &+ 2) else {
                return .badProtocol
            }
            guard b0 >> 4 == 4 else { return .badProtocol }
            stated = Int(total)
        } else {
            return .badProtocol
        }
        if length == stated { return .ok }
        return length < stated ? .caplenTooSmall : .caplenTooLarge
    }
}

extension TunnelOutcome {
    /// The part of `length` that lies inside `bytes` from `offset` (0 when `offset` is outside), so a
    /// caller's bad bounds read as truncation instead of trapping.
    @inlinable
    static func clampedLength(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> Int {
        guard offset >= 0, offset <= bytes.count, length > 0 else { return 0 }
        return min(length, bytes.count &- offset)
    }
}
