// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct IPv4Tests {
    @Test func goodHeader() {
        let d = decodeAll(udp4Frame())
        #expect(d.ipResult == "ok")
        #expect(d.ip.version == 4)
        #expect(d.ip.source == IPAddress("10.0.0.1"))
        #expect(d.ip.destination == IPAddress("10.0.0.2"))
        #expect(d.ip.transportProtocol == 17)
        #expect(d.ip.ttl == 64)
        #expect(d.ip.headerLength == 20)
        #expect(d.ip.totalLength == 32)
        #expect(d.ip.payloadOffset == 34)
        #expect(d.ip.payloadLength == 12)
        #expect(d.ip.capturedPayloadLength == 12)
        #expect(!d.ip.isFragment)
    }

    @Test func badChecksumStopsOnlyWhenVerifying() {
        let frame = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 0, badChecksum: true)
        #expect(decodeAll(frame).ipResult == "bad_IP_checksum/IP")
        #expect(decodeAll(frame, verify: false).ipResult == "ok")
    }

    @Test func everyTruncation() {
        let frame = udp4Frame()
        for n in 17..<34 {  // fewer than 20 IP bytes
            #expect(decodeAll(Array(frame.prefix(n))).ipResult == "truncated_IP/IP")
        }
        for n in 34..<frame.count {  // whole header, total length beyond the (wire) frame
            #expect(decodeAll(Array(frame.prefix(n))).ipResult == "truncated_IP_len/IP")
        }
    }

    @Test func snaplenCutKeepsDecodingWithShorterCapture() {
        let frame = udp4Frame(payload: [UInt8](repeating: 7, count: 100))
        var ip = IPLayer()
        let r = Array(frame.prefix(50)).withUnsafeBytes {
            IPDecoder.decode($0, wireLength: frame.count, offset: 14, etherType: 0x0800, verifyChecksum: true, into: &ip)
        }
        #expect(outcome(r) == "ok")
        #expect(ip.payloadLength == 108)
        #expect(ip.capturedPayloadLength == 16)
    }

    @Test func ethernetPaddingIsNotPayload() {
        let frame = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 0) + [0, 0, 0, 0, 0, 0]
        let d = decodeAll(frame)
        #expect(d.ip.capturedPayloadLength == 0)
        #expect(d.transportResult == "truncated_header/UDP" || d.transportResult == "internally_truncated_header/UDP")
    }

    @Test func headerLengthChecks() {
        var h = Headers.ipv4(proto: 17, payloadLength: 0)
        h[0] = 0x44  // IHL 4
        #expect(decodeAll(Headers.ethernet(type: 0x0800) + h, verify: false).ipResult == "IPv4_min_header_size/IP")
        h[0] = 0x46  // IHL 6 (24 bytes) > total length 20
        #expect(decodeAll(Headers.ethernet(type: 0x0800) + h, verify: false).ipResult == "invalid_IP_header_size/IP")
        h[0] = 0x4F  // IHL 15 with total length 60 but only 20 bytes captured
        h[2] = 0; h[3] = 60
        var ip = IPLayer()
        let r = h.withUnsafeBytes {
            IPDecoder.decode($0, wireLength: 60, offset: 0, etherType: 0x0800, verifyChecksum: false, into: &ip)
        }
        #expect(outcome(r) == "internally_truncated_header/IP")
        h[0] = 0x35  // version 3
        #expect(decodeAll(Headers.ethernet(type: 0x0800) + h).ipResult == "unknown_ip_version/IP")
    }

    @Test func zeroTotalLength() {
        var h = Headers.ipv4(proto: 17, payloadLength: 0)
        h[2] = 0; h[3] = 0  // total length 0 (segmentation offload)
        #expect(decodeAll(Headers.ethernet(type: 0x0800) + h).ipResult == "ip_hdr_len_zero/IP")
        let d = decodeAll(Headers.ethernet(type: 0x0800) + h + [1, 2, 3, 4, 5, 6, 7, 8], verify: false)
        #expect(d.ipResult == "ok")
        #expect(d.ip.totalLength == 28)
        #expect(d.ip.anomaly?.nameString == "ip_hdr_len_zero")
    }

    @Test func optionsAreSkipped() {
        var h = Headers.ipv4(proto: 17, payloadLength: 12)
        h[0] = 0x46  // IHL 6: one 4-byte option
        h[3] = UInt8(24 + 8)  // total length
        h.insert(contentsOf: [0x01, 0x01, 0x01, 0x00], at: 20)  // NOP NOP NOP EOL
        let d = decodeAll(Headers.ethernet(type: 0x0800) + h + Headers.udp(payloadLength: 0), verify: false)
        #expect(d.ip.headerLength == 24)
        #expect(d.ip.payloadOffset == 38)
        #expect(d.transport.destinationPort == 53)
    }

    @Test func fragmentFields() {
        let h = Headers.ipv4(proto: 17, payloadLength: 8, id: 77, flags: 0x2000, fragmentOffset: 1480)
        let d = decodeAll(Headers.ethernet(type: 0x0800) + h + [UInt8](repeating: 0, count: 8))
        #expect(d.ip.isFragment)
        #expect(d.ip.moreFragments)
        #expect(d.ip.fragmentOffset == 1480)
        #expect(d.ip.identification == 77)
        #expect(!d.ip.dontFragment)
    }

    @Test func incompletelyCapturedFragments() {
        let first = Headers.ipv4(proto: 17, payloadLength: 100, flags: 0x2000) + [UInt8](repeating: 0, count: 20)
        let later = Headers.ipv4(proto: 17, payloadLength: 100, flags: 0x2000, fragmentOffset: 800) + [UInt8](repeating: 0, count: 20)
        var ip = IPLayer()
        let r1 = first.withUnsafeBytes { IPDecoder.decode($0, wireLength: 120, offset: 0, etherType: 0x0800, verifyChecksum: true, into: &ip) }
        #expect(outcome(r1) == "ok")
        #expect(ip.anomaly?.nameString == "incompletely_captured_fragment")
        let r2 = later.withUnsafeBytes { IPDecoder.decode($0, wireLength: 120, offset: 0, etherType: 0x0800, verifyChecksum: true, into: &ip) }
        #expect(outcome(r2) == "incompletely_captured_fragment/IP")
    }
}
