// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct TCPTests {
    @Test func synFields() {
        let d = decodeAll(tcp4Frame(payload: [0x41, 0x42]))
        #expect(d.transportResult == "ok")
        #expect(d.transport.sourcePort == 1234)
        #expect(d.transport.destinationPort == 80)
        #expect(d.transport.sequence == 1000)
        #expect(d.transport.flags == .syn)
        #expect(d.transport.window == 65535)
        #expect(d.transport.payloadOffset == 14 + 20 + 20)
        #expect(d.transport.payloadLength == 2)
        #expect(d.transport.capturedPayloadLength == 2)
        #expect(d.transport.checksumValid)
    }

    @Test func badChecksumKeepsDecoding() {
        var frame = tcp4Frame(payload: [1])
        frame[frame.count - 1] ^= 0xFF  // corrupt the payload
        let d = decodeAll(frame)
        #expect(d.transportResult == "ok")
        #expect(!d.transport.checksumValid)
        #expect(decodeAll(frame, verify: false).transport.checksumValid)
    }

    @Test func dataOffsetChecks() {
        var frame = tcp4Frame()
        frame[14 + 20 + 12] = 0x40  // data offset 4
        #expect(decodeAll(frame, verify: false).transportResult == "bad_TCP_header_len/TCP")
        frame[14 + 20 + 12] = 0x60  // data offset 6: options beyond the segment
        #expect(decodeAll(frame, verify: false).transportResult == "truncated_header/TCP")
    }

    @Test func shortSegments() {
        // IP says 10 bytes of TCP: truncated_header.
        let short = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 6, payloadLength: 10) + Array(Headers.tcp().prefix(10))
        #expect(decodeAll(short).transportResult == "truncated_header/TCP")
        // IP says 20 bytes but the capture holds 10: internally_truncated_header.
        let frame = tcp4Frame()
        var ip = IPLayer()
        var t = TransportLayer()
        let r = Array(frame.prefix(14 + 20 + 10)).withUnsafeBytes { b -> DecodeResult in
            _ = IPDecoder.decode(b, wireLength: frame.count, offset: 14, etherType: 0x0800, verifyChecksum: true, into: &ip)
            return TransportDecoder.decode(b, ip: ip, verifyChecksum: true, into: &t)
        }
        #expect(outcome(r) == "internally_truncated_header/TCP")
    }

    @Test func everySnaplenNeverTraps() {
        let frame = tcp4Frame(payload: [UInt8](repeating: 0x55, count: 40))
        for n in 0...frame.count {
            var link = LinkLayer()
            var ip = IPLayer()
            var t = TransportLayer()
            Array(frame.prefix(n)).withUnsafeBytes { b in
                guard case .ok = LinkDecoder.decode(b, linkType: .ethernet, into: &link),
                    case .ok = IPDecoder.decode(b, wireLength: frame.count, offset: link.networkOffset, etherType: link.etherType, verifyChecksum: true, into: &ip)
                else { return }
                let r = TransportDecoder.decode(b, ip: ip, verifyChecksum: true, into: &t)
                if n >= 14 + 20 + 20 {
                    #expect(outcome(r) == "ok")
                    #expect(t.capturedPayloadLength == n - 54)
                    #expect(t.checksumValid)  // not verifiable on a cut capture
                } else {
                    #expect(outcome(r) == "internally_truncated_header/TCP")
                }
            }
        }
    }
}
