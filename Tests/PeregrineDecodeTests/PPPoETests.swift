// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct PPPoETests {
    func pppoe(ppp: UInt16, inner: [UInt8]) -> [UInt8] {
        var b = PacketBuilder()
        b.append(Headers.ethernet(type: 0x8864))
        b.append([0x11, 0x00])  // version 1, type 1; code 0 (session data)
        b.append16(0x0001)  // session id
        b.append16(UInt16(2 + inner.count))  // length
        b.append16(ppp)  // PPP protocol
        return b.bytes + inner
    }

    @Test func ipv4AndIPv6() {
        let d4 = decodeAll(pppoe(ppp: 0x0021, inner: Array(udp4Frame().dropFirst(14))))
        #expect(d4.transportResult == "ok")
        #expect(d4.link.networkOffset == 22)
        let d6 = decodeAll(pppoe(ppp: 0x0057, inner: Headers.ipv6(next: 59, payloadLength: 0)))
        #expect(d6.link.etherType == 0x86DD)
    }

    @Test func controlProtocolsStopQuietly() {
        #expect(decodeAll(pppoe(ppp: 0xC021, inner: [1, 1, 0, 4])).linkResult == "stop")  // LCP
    }

    @Test func truncation() {
        let frame = pppoe(ppp: 0x0021, inner: [0x45])
        for n in 17...22 {
            #expect(decodeAll(Array(frame.prefix(n))).linkResult == "truncated_pppoe_header/PPPoE")
        }
    }
}
