// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct UDPTests {
    @Test func fields() {
        let d = decodeAll(udp4Frame(payload: [1, 2, 3]))
        #expect(d.transportResult == "ok")
        #expect(d.transport.sourcePort == 5353)
        #expect(d.transport.destinationPort == 53)
        #expect(d.transport.payloadOffset == 42)
        #expect(d.transport.payloadLength == 3)
        #expect(d.transport.checksumValid)
    }

    @Test func checksums() {
        var bad = udp4Frame()
        bad[bad.count - 1] ^= 1
        #expect(!decodeAll(bad).transport.checksumValid)
        var zero = bad
        zero[14 + 20 + 6] = 0; zero[14 + 20 + 7] = 0  // checksum 0 over IPv4: not computed
        #expect(decodeAll(zero).transport.checksumValid)
        // Over IPv6 a zero checksum is wrong.
        let v6 = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 17, payloadLength: 10) + Headers.udp(payloadLength: 2) + [1, 2]
        #expect(!decodeAll(v6).transport.checksumValid)
        let good = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 17, payloadLength: 10)
            + Headers.withChecksum(Headers.udp(payloadLength: 2) + [1, 2], checksumOffset: 6, proto: 17, src: Headers.v6(1), dst: Headers.v6(2))
        #expect(decodeAll(good).transport.checksumValid)
    }

    @Test func vxlanZeroChecksumOverIPv6IsAccepted() {
        let vxlan: [UInt8] = [0x08, 0, 0, 0, 0, 0, 1, 0]  // VXLAN: I flag, VNI 1
        let inner = Headers.ethernet(type: 0x0800) + [UInt8](repeating: 0, count: 20)
        let body = vxlan + inner
        let frame = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 17, payloadLength: 8 + body.count)
            + Headers.udp(dst: 4789, payloadLength: body.count) + body
        #expect(decodeAll(frame).transport.checksumValid)
    }

    @Test func lengthFieldGivesPayloadLength() {
        var frame = udp4Frame(payload: [1, 2, 3, 4])
        frame[14 + 20 + 5] = 10  // UDP length 10 instead of 12
        let d = decodeAll(frame, verify: false)
        #expect(d.transport.payloadLength == 2)
        #expect(d.transport.capturedPayloadLength == 4)
    }

    @Test func truncation() {
        let short = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 4) + [0, 53, 0, 53]
        #expect(decodeAll(short).transportResult == "truncated_header/UDP")
        let frame = udp4Frame()
        var ip = IPLayer()
        var t = TransportLayer()
        let r = Array(frame.prefix(14 + 20 + 4)).withUnsafeBytes { b -> DecodeResult in
            _ = IPDecoder.decode(b, wireLength: frame.count, offset: 14, etherType: 0x0800, verifyChecksum: true, into: &ip)
            return TransportDecoder.decode(b, ip: ip, verifyChecksum: true, into: &t)
        }
        #expect(outcome(r) == "internally_truncated_header/UDP")
    }
}
