// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// VXLAN (RFC 7348) on UDP 4789, as src/packet_analysis/protocol/vxlan/VXLAN.cc reads it: an
/// 8-byte header whose I flag (0x08 in the first byte) must be set, a 24-bit VNI, then Ethernet.
public enum VXLAN {
    /// The 24-bit VXLAN network identifier of the header at `offset`, or `nil` when truncated.
    @inlinable
    public static func vni(_ bytes: UnsafeRawBufferPointer, offset: Int) -> UInt32? {
        guard let w = ByteCursor(bytes).getUInt32(at: offset &+ 4) else { return nil }
        return w >> 8
    }

    /// Parses the VXLAN header at `offset` (`length` bytes of UDP payload).
    ///
    /// A short header or a clear I flag is a violation; otherwise the packet confirms, and an empty
    /// payload adds `vxlan_empty_packet`.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        guard len >= 8, let flags = ByteCursor(bytes).getUInt8(at: offset) else { return .violation }
        guard flags & 0x08 != 0 else { return .violation }
        if len == 8 { return TunnelOutcome(payload: nil, weird: .vxlanEmptyPacket, verdict: .valid) }
        return TunnelOutcome(
            payload: TunnelPayload(offset: offset &+ 8, length: len &- 8, kind: .ethernet), verdict: .valid)
    }
}

/// Geneve (RFC 8926) on UDP 6081, as src/packet_analysis/protocol/geneve/Geneve.cc reads it:
/// version (2 bits, must be 0), option length in 4-byte words (6 bits), protocol type, VNI, options.
///
/// The protocol types Zeek maps (`scripts/base/packet-protocols/geneve/main.zeek`) are 0x6558
/// (Ethernet), 0x0800 (IP), 0x0806 (ARP) and 0x08DD (IP): the script registers 0x08DD, not IPv6's
/// 0x86DD, so Geneve-carried IPv6 is not decoded by Zeek. Other types stop silently (Zeek reports
/// them to unknown_protocols.log only).
public enum Geneve {
    /// Parses the Geneve header at `offset` (`length` bytes of UDP payload).
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        guard len >= 8, let b0 = c.getUInt8(at: offset), let proto = c.getUInt16(at: offset &+ 2) else {
            return .violation
        }
        // A bad version is a weird but not a violation in Zeek.
        guard b0 >> 6 == 0 else { return .stop(.geneveInvalidVersion) }
        let header = 8 &+ Int(b0 & 0x3F) &* 4
        guard len >= header else { return .violation }
        if len == header { return TunnelOutcome(payload: nil, weird: .geneveEmptyPacket, verdict: .valid) }
        let kind: TunnelPayloadKind
        switch proto {
        case 0x6558: kind = .ethernet
        case 0x0800, 0x08DD: kind = .rawIP
        case 0x0806: kind = .arp
        default: return TunnelOutcome(payload: nil, verdict: .valid)
        }
        return TunnelOutcome(
            payload: TunnelPayload(offset: offset &+ header, length: len &- header, kind: kind), verdict: .valid)
    }
}

/// AYIYA ("Anything In Anything") on UDP 5072, as src/packet_analysis/protocol/ayiya/AYIYA.cc
/// reads it: identity length `1 << (byte0 >> 4)`, signature length `(byte1 >> 4) * 4`, opcode in
/// the low nibble of byte 2 (only 1, forward, carries a packet), next header in byte 3 (4 or 41).
public enum AYIYA {
    /// Parses the AYIYA header at `offset` (`length` bytes of UDP payload).
    ///
    /// A non-forward opcode stops quietly without confirming. A next header other than 4 or 41
    /// confirms but has nothing to decode (Zeek's AYIYA dispatcher maps only those two).
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> TunnelOutcome {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        guard len >= 8, let b0 = c.getUInt8(at: offset), let b1 = c.getUInt8(at: offset &+ 1),
            let b2 = c.getUInt8(at: offset &+ 2), let next = c.getUInt8(at: offset &+ 3)
        else { return .violation }
        let header = 8 &+ (1 &<< Int(b0 >> 4)) &+ Int(b1 >> 4) &* 4
        guard len >= header else { return .violation }
        guard b2 & 0x0F == 1 else { return .stop() }
        if len == header { return TunnelOutcome(payload: nil, weird: .ayiyaEmptyPacket, verdict: .valid) }
        guard IPInIP.isTunnel(ipProtocol: next) else { return TunnelOutcome(payload: nil, verdict: .valid) }
        return TunnelOutcome(
            payload: TunnelPayload(offset: offset &+ header, length: len &- header, kind: .rawIP), verdict: .valid)
    }

    /// Zeek's AYIYA detection on UDP ports not registered for it: at least 3 bytes with
    /// byte 1 = 0x52 and byte 2 = 0x11 (`AYIYAAnalyzer::DetectProtocol`).
    @inlinable
    public static func detect(_ bytes: UnsafeRawBufferPointer, offset: Int, length: Int) -> Bool {
        let len = TunnelOutcome.clampedLength(bytes, offset: offset, length: length)
        let c = ByteCursor(bytes)
        return len >= 3 && c.getUInt8(at: offset &+ 1) == 0x52 && c.getUInt8(at: offset &+ 2) == 0x11
    }
}
