// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for the packet decoders: LinkDecoder -> IPDecoder -> TransportDecoder, and
// on through the tunnel parsers (IP-in-IP, GRE, and the UDP tunnels by port or detection) into the
// inner packet, as the worker decodes a frame, up to `Tunnel.maxDepth` levels.
//
// Input: byte 0 picks the link type (low 4 bits, modulo the supported types), whether checksums
// are verified (bit 4) and whether the frame was cut by the snap length (bit 5: the wire length
// is 64 bytes more than captured). The rest is the frame.
import FuzzSupport
import PeregrineDecode

/// The link types a selector byte picks from.
enum Links {
    static let types: [LinkType] = [.ethernet, .raw, .null, .loop, .linuxSLL, .linuxSLL2, .ipv4, .ipv6]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let selector = input.byte()
    let linkType = Links.types[Int(selector & 0x0F) % Links.types.count]
    let verify = selector & 0x10 != 0
    let frame = input.rest()
    let wireLength = frame.count + (selector & 0x20 != 0 ? 64 : 0)
    decodeFrame(frame, wireLength: wireLength, linkType: linkType, verify: verify, depth: 0)
    return 0
}

func decodeFrame(_ frame: UnsafeRawBufferPointer, wireLength: Int, linkType: LinkType, verify: Bool, depth: Int) {
    var link = LinkLayer()
    guard case .ok = LinkDecoder.decode(frame, linkType: linkType, into: &link) else { return }
    fuzzCheck(link.networkOffset >= 0 && link.networkOffset <= frame.count, "link network offset outside the frame")
    guard link.etherType == 0x0800 || link.etherType == 0x86DD else { return }
    decodeIP(frame, wireLength: wireLength, offset: link.networkOffset, etherType: link.etherType, verify: verify, depth: depth)
}

func decodeIP(_ frame: UnsafeRawBufferPointer, wireLength: Int, offset: Int, etherType: UInt16, verify: Bool, depth: Int) {
    var ip = IPLayer()
    guard case .ok = IPDecoder.decode(
        frame, wireLength: wireLength, offset: offset, etherType: etherType, verifyChecksum: verify, into: &ip)
    else { return }
    fuzzCheck(ip.version == 4 || ip.version == 6, "IP version neither 4 nor 6")
    fuzzCheck(ip.headerOffset == offset && ip.payloadOffset >= ip.headerOffset, "IP offsets out of order")
    fuzzCheck(ip.capturedPayloadLength >= 0, "negative captured IP payload")
    fuzzCheck(ip.payloadOffset + ip.capturedPayloadLength <= frame.count, "IP payload beyond the frame")
    if ip.isFragment && ip.fragmentOffset != 0 { return }
    switch ip.transportProtocol {
    case 6, 17, 1, 58:
        var t = TransportLayer()
        guard case .ok = TransportDecoder.decode(frame, ip: ip, verifyChecksum: verify, into: &t) else { return }
        fuzzCheck(t.capturedPayloadLength >= 0 && t.payloadOffset >= ip.payloadOffset, "transport offsets out of order")
        fuzzCheck(t.payloadOffset + t.capturedPayloadLength <= frame.count, "transport payload beyond the frame")
        if ip.transportProtocol == 17 && t.capturedPayloadLength > 0 {
            udpTunnel(frame, t: t, verify: verify, depth: depth)
        }
    case 4, 41:
        tunnel(frame, IPInIP.parse(frame, offset: ip.payloadOffset, length: ip.capturedPayloadLength), verify: verify, depth: depth)
    case 47:
        tunnel(frame, GRE.parse(frame, offset: ip.payloadOffset, length: ip.capturedPayloadLength), verify: verify, depth: depth)
    case 2:
        _ = IGMPDecoder.validate(frame, ip: ip)
    default:
        break
    }
}

func udpTunnel(_ frame: UnsafeRawBufferPointer, t: TransportLayer, verify: Bool, depth: Int) {
    let offset = t.payloadOffset, length = t.capturedPayloadLength
    var kind = TunnelKind.udpKind(responderPort: t.destinationPort)
    if kind == nil {
        if Teredo.detect(frame, offset: offset, length: length) {
            kind = .teredo
        } else if AYIYA.detect(frame, offset: offset, length: length) {
            kind = .ayiya
        }
    }
    let outcome: TunnelOutcome
    switch kind {
    case .vxlan: outcome = VXLAN.parse(frame, offset: offset, length: length)
    case .geneve: outcome = Geneve.parse(frame, offset: offset, length: length)
    case .teredo: outcome = Teredo.parse(frame, offset: offset, length: length)
    case .ayiya: outcome = AYIYA.parse(frame, offset: offset, length: length)
    case .gtpv1: outcome = GTPv1.parse(frame, offset: offset, length: length)
    case .ip, .gre, nil: return
    }
    if kind == .teredo, let payload = outcome.payload, Teredo.isBubble(frame, payload: payload) { return }
    tunnel(frame, outcome, verify: verify, depth: depth)
}

/// Decodes a tunnel's inner packet the way the worker's `decapsulate` does.
func tunnel(_ frame: UnsafeRawBufferPointer, _ outcome: TunnelOutcome, verify: Bool, depth: Int) {
    guard let payload = outcome.payload else { return }
    fuzzCheck(payload.offset >= 0 && payload.length >= 0, "negative tunnel payload bounds")
    fuzzCheck(payload.offset + payload.length <= frame.count, "tunnel payload beyond the frame")
    guard payload.length > 0, depth + 1 < Tunnel.maxDepth else { return }
    let inner = UnsafeRawBufferPointer(rebasing: frame[payload.offset..<(payload.offset + payload.length)])
    switch payload.kind {
    case .ethernet:
        decodeFrame(inner, wireLength: inner.count, linkType: .ethernet, verify: verify, depth: depth + 1)
    case .rawIP, .ipv4, .ipv6:
        let v6 = payload.kind == .ipv6 || (payload.kind == .rawIP && inner[0] >> 4 == 6)
        decodeIP(inner, wireLength: inner.count, offset: 0, etherType: v6 ? 0x86DD : 0x0800, verify: verify, depth: depth + 1)
    case .arp, .ieee80211:
        break
    }
}

runFuzzer(fuzzDecode)
