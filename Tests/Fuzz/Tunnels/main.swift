// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for the tunnel header parsers (GRE, VXLAN, Geneve, GTPv1, Teredo, AYIYA,
// IP-in-IP) on their own, with the offset and length a caller passes varied, including lengths
// that run past the buffer (the parsers clamp them, TunnelOutcome.clampedLength).
//
// Input: byte 0 picks the parser (modulo 7). Byte 1 sets the offset of the tunnel header (low 4
// bits) and how the length differs from the bytes left (bits 4-6 subtract up to 7 bytes, bit 7
// adds 32). The rest is the buffer.
import FuzzSupport
import PeregrineDecode

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTunnels(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let parser = input.byte() % 7
    let shape = input.byte()
    let buffer = input.rest()
    let offset = min(Int(shape & 0x0F), buffer.count)
    let length = max(0, buffer.count - offset - Int((shape >> 4) & 0x07)) + (shape & 0x80 != 0 ? 32 : 0)

    let outcome: TunnelOutcome
    switch parser {
    case 0:
        outcome = GRE.parse(buffer, offset: offset, length: length)
    case 1:
        outcome = VXLAN.parse(buffer, offset: offset, length: length)
        _ = VXLAN.vni(buffer, offset: offset)
    case 2:
        outcome = Geneve.parse(buffer, offset: offset, length: length)
    case 3:
        outcome = GTPv1.parse(buffer, offset: offset, length: length)
    case 4:
        _ = Teredo.detect(buffer, offset: offset, length: length)
        outcome = Teredo.parse(buffer, offset: offset, length: length)
        if let payload = outcome.payload { _ = Teredo.isBubble(buffer, payload: payload) }
    case 5:
        _ = AYIYA.detect(buffer, offset: offset, length: length)
        outcome = AYIYA.parse(buffer, offset: offset, length: length)
    default:
        outcome = IPInIP.parse(buffer, offset: offset, length: length)
    }
    if outcome.verdict == .violation { fuzzCheck(outcome.payload == nil, "a violation carries an inner packet") }
    guard let payload = outcome.payload else { return 0 }
    fuzzCheck(payload.offset >= offset && payload.length >= 0, "tunnel payload starts before its header")
    fuzzCheck(payload.offset + payload.length <= buffer.count, "tunnel payload beyond the buffer")
    switch payload.kind {
    case .ipv4:
        fuzzCheck(InnerIPCheck.check(buffer, offset: payload.offset, length: payload.length, version: 4) == .ok,
                  "checked IPv4 payload fails the inner IP check")
    case .ipv6:
        // A Teredo bubble may carry trailing bytes; otherwise the length must match.
        let check = InnerIPCheck.check(buffer, offset: payload.offset, length: payload.length, version: 6)
        fuzzCheck(check == .ok || check == .caplenTooLarge, "checked IPv6 payload fails the inner IP check")
    case .rawIP, .ethernet, .arp, .ieee80211:
        _ = InnerIPCheck.check(buffer, offset: payload.offset, length: payload.length, version: 4)
        _ = InnerIPCheck.check(buffer, offset: payload.offset, length: payload.length, version: 6)
    }
    return 0
}

runFuzzer(fuzzTunnels)
