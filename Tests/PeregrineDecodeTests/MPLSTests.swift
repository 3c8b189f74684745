// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct MPLSTests {
    /// Ethernet + `labels` MPLS labels (last with bottom-of-stack) + `inner`.
    func mpls(labels: Int, inner: [UInt8]) -> [UInt8] {
        var b = PacketBuilder()
        b.append(Headers.ethernet(type: 0x8847))
        for i in 0..<labels {
            let bottom: UInt32 = i == labels - 1 ? 0x100 : 0
            b.append32(UInt32(16 + i) << 12 | bottom | 64)  // label, TC 0, S bit, TTL 64
        }
        return b.bytes + inner
    }

    @Test func popsLabelsThenPicksIPByVersion() {
        let v4 = mpls(labels: 2, inner: Array(udp4Frame().dropFirst(14)))
        let d = decodeAll(v4)
        #expect(d.transportResult == "ok")
        #expect(d.link.networkOffset == 22)
        #expect(d.link.etherType == 0x0800)
        let v6 = decodeAll(mpls(labels: 1, inner: Headers.ipv6(next: 59, payloadLength: 0)))
        #expect(v6.link.etherType == 0x86DD)
        #expect(v6.link.networkOffset == 18)
    }

    @Test func truncatedStack() {
        let frame = mpls(labels: 3, inner: [0x45, 0, 0])
        for n in 17..<(14 + 12 + 1) {
            #expect(decodeAll(Array(frame.prefix(n))).linkResult == "truncated_link_header/MPLS")
        }
    }

    @Test func labelCountIsBounded() {
        let frame = mpls(labels: LinkDecoder.maxEncapsulationDepth + 1, inner: Array(udp4Frame().dropFirst(14)))
        #expect(decodeAll(frame).linkResult == "stop")
    }
}
