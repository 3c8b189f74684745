// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport

/// "name/source" of a stop's weird, "ok" for `.ok`, "stop" for a stop without weird.
func outcome(_ r: DecodeResult) -> String {
    switch r {
    case .ok: return "ok"
    case .stop(let w?): return "\(w.nameString)/\(w.sourceString)"
    case .stop(nil): return "stop"
    }
}

/// The three layers of one frame and how far decoding went.
struct Decoded {
    var link = LinkLayer()
    var ip = IPLayer()
    var transport = TransportLayer()
    var linkResult = "ok"
    var ipResult = "-"
    var transportResult = "-"
}

/// Decodes `bytes` through all three layers, stopping where a decoder stops.
func decodeAll(_ bytes: [UInt8], linkType: LinkType = .ethernet, verify: Bool = true) -> Decoded {
    var d = Decoded()
    bytes.withUnsafeBytes { frame in
        d.linkResult = outcome(LinkDecoder.decode(frame, linkType: linkType, into: &d.link))
        guard d.linkResult == "ok", d.link.etherType == 0x0800 || d.link.etherType == 0x86DD else { return }
        d.ipResult = outcome(
            IPDecoder.decode(frame, offset: d.link.networkOffset, etherType: d.link.etherType, verifyChecksum: verify, into: &d.ip))
        guard d.ipResult == "ok" else { return }
        d.transportResult = outcome(TransportDecoder.decode(frame, ip: d.ip, verifyChecksum: verify, into: &d.transport))
    }
    return d
}

/// An Ethernet + IPv4 + UDP frame with correct checksums.
func udp4Frame(payload: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
    let udp = Headers.withChecksum(
        Headers.udp(payloadLength: payload.count) + payload, checksumOffset: 6, proto: 17, src: [10, 0, 0, 1], dst: [10, 0, 0, 2])
    return Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: udp.count) + udp
}

/// An Ethernet + IPv4 + TCP SYN frame with correct checksums.
func tcp4Frame(payload: [UInt8] = []) -> [UInt8] {
    let tcp = Headers.withChecksum(
        Headers.tcp() + payload, checksumOffset: 16, proto: 6, src: [10, 0, 0, 1], dst: [10, 0, 0, 2])
    return Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 6, payloadLength: tcp.count) + tcp
}
