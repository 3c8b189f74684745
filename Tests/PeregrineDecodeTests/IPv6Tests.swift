// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct IPv6Tests {
    /// IPv6 + hop-by-hop (8) + routing (24: type 2 style, segments left 0) + destination options (8) + UDP.
    func chain() -> [UInt8] {
        let udp = Headers.withChecksum(Headers.udp(payloadLength: 2) + [9, 9], checksumOffset: 6, proto: 17,
            src: Headers.v6(1), dst: Headers.v6(2))
        let hop: [UInt8] = [43, 0, 1, 4, 0, 0, 0, 0]  // next routing, len 0 (8 bytes), PadN option
        var routing: [UInt8] = [60, 2, 4, 0, 0, 0, 0, 0]  // next dst-opts, len 2 (24 bytes), type 4, segments left 0
        routing += [UInt8](repeating: 0, count: 16)
        let dst: [UInt8] = [17, 0, 1, 4, 0, 0, 0, 0]  // next UDP, len 0, PadN
        let ext = hop + routing + dst
        return Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 0, payloadLength: ext.count + udp.count) + ext + udp
    }

    @Test func extensionChainToUDP() {
        let d = decodeAll(chain())
        #expect(d.ipResult == "ok")
        #expect(d.ip.version == 6)
        #expect(d.ip.transportProtocol == 17)
        #expect(d.ip.headerLength == 40 + 40)
        #expect(d.ip.totalLength == 40 + 40 + 10)
        #expect(d.ip.payloadLength == 10)
        #expect(d.ip.source == IPAddress("2001:db8::1"))
        #expect(d.transportResult == "ok")
        #expect(d.transport.checksumValid)
        #expect(d.transport.destinationPort == 53)
    }

    @Test func fragmentHeaderEndsTheWalk() {
        let frag: [UInt8] = [6, 0, 0x05, 0xA9, 0xDE, 0xAD, 0xBE, 0xEF]  // next TCP, offset 181*8 = 1448, MF; id
        let frame = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 44, payloadLength: 16) + frag + [UInt8](repeating: 0, count: 8)
        let d = decodeAll(frame)
        #expect(d.ipResult == "ok")
        #expect(d.ip.isFragment)
        #expect(d.ip.moreFragments)
        #expect(d.ip.fragmentOffset == 1448)
        #expect(d.ip.identification == 0xDEAD_BEEF)
        #expect(d.ip.transportProtocol == 6)
        #expect(d.ip.headerLength == 48)
    }

    @Test func espAndNoNext() {
        let esp = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 50, payloadLength: 8) + [0, 0, 1, 0, 0, 0, 0, 1]
        let d = decodeAll(esp)
        #expect(d.ipResult == "ok")
        #expect(d.ip.transportProtocol == 50)
        #expect(d.transportResult == "stop")
        #expect(decodeAll(Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 59, payloadLength: 0)).ipResult == "ipv6_no_next/IP")
    }

    @Test func everyTruncation() {
        let frame = chain()
        for n in 17..<(14 + 20) {
            #expect(decodeAll(Array(frame.prefix(n))).ipResult == "truncated_IP/IP")
        }
        for n in (14 + 20)..<(14 + 40) {
            #expect(decodeAll(Array(frame.prefix(n))).ipResult == "truncated_IP/IP")
        }
        for n in (14 + 40)..<frame.count {
            #expect(decodeAll(Array(frame.prefix(n))).ipResult == "truncated_IP_len/IP")
        }
    }

    @Test func truncatedChainStopsLikeZeek() {
        // The routing header claims 24 bytes but only 8 are captured: the walk stops before it and
        // the header's type is left as the protocol, which no transport decoder takes.
        let frame = chain()
        var ip = IPLayer()
        let r = Array(frame.prefix(14 + 40 + 8 + 8)).withUnsafeBytes {
            IPDecoder.decode($0, wireLength: frame.count, offset: 14, etherType: 0x86DD, verifyChecksum: true, into: &ip)
        }
        #expect(outcome(r) == "ok")
        #expect(ip.transportProtocol == 43)
        #expect(ip.headerLength == 48)
    }

    @Test func headerChainLongerThanPacket() {
        // Payload length 4 while the hop-by-hop header alone is 8 bytes.
        let frame = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 0, payloadLength: 4) + [17, 0, 1, 4, 0, 0, 0, 0]
        #expect(decodeAll(frame).ipResult == "invalid_IP_header_size/IP")
    }

    @Test func extensionCountIsBounded() {
        let n = IPDecoder.maxIPv6ExtensionHeaders + 2
        var ext: [UInt8] = []
        for _ in 0..<n { ext += [60, 0, 1, 4, 0, 0, 0, 0] }  // destination options, next dst-opts
        let frame = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 60, payloadLength: ext.count) + ext
        let d = decodeAll(frame)
        #expect(d.ipResult == "ok")
        #expect(d.ip.headerLength == 40 + 8 * IPDecoder.maxIPv6ExtensionHeaders)
        #expect(d.ip.transportProtocol == 60)
    }
}
