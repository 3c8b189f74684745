// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct VLANTests {
    /// Ethernet with the given tags (TPID, VLAN id) in front of an IPv4/UDP packet.
    func tagged(_ tags: [(UInt16, UInt16)]) -> [UInt8] {
        let ip = Array(udp4Frame().dropFirst(14))
        var b = PacketBuilder()
        b.append(Array(Headers.ethernet(type: tags[0].0).prefix(12)))  // MACs
        for (i, tag) in tags.enumerated() {
            b.append16(tag.0)  // TPID
            b.append16(0x2000 | tag.1)  // PCP 1, VLAN id
            _ = i
        }
        b.append16(0x0800)  // inner EtherType
        return b.bytes + ip
    }

    @Test func singleTag() {
        let d = decodeAll(tagged([(0x8100, 100)]))
        #expect(d.transportResult == "ok")
        #expect(d.link.vlan == 100)
        #expect(d.link.innerVlan == 0)
        #expect(d.link.networkOffset == 18)
    }

    @Test func qinqRecordsOuterAndInner() {
        for outer: UInt16 in [0x88A8, 0x9100, 0x8100] {
            let d = decodeAll(tagged([(outer, 10), (0x8100, 20)]))
            #expect(d.transportResult == "ok")
            #expect(d.link.vlan == 10)
            #expect(d.link.innerVlan == 20)
            #expect(d.link.anomaly == nil)
        }
    }

    @Test func tripleTagOverwritesInnerWithWeird() {
        let d = decodeAll(tagged([(0x88A8, 10), (0x8100, 20), (0x8100, 30)]))
        #expect(d.transportResult == "ok")
        #expect(d.link.vlan == 10)
        #expect(d.link.innerVlan == 30)
        #expect(d.link.anomaly?.nameString == "triple_tagged_vlan_unsupported")
    }

    @Test func depthIsBounded() {
        let tags = [(UInt16, UInt16)](repeating: (0x8100, 1), count: LinkDecoder.maxEncapsulationDepth + 1)
        #expect(decodeAll(tagged(tags)).linkResult == "stop")
    }

    @Test func everyTruncation() {
        let frame = tagged([(0x8100, 100)])
        for n in 17...18 {  // 14-byte Ethernet header + at most 4 tag bytes
            #expect(decodeAll(Array(frame.prefix(n))).linkResult == "truncated_VLAN_header/VLAN")
        }
        for n in 0..<frame.count { _ = decodeAll(Array(frame.prefix(n))) }  // never traps
    }

    @Test func undefinedProtocol() {
        var b = PacketBuilder()
        b.append(Headers.ethernet(type: 0x8100))
        b.append16(5)  // VLAN id 5
        b.append16(1520)  // neither a length nor an EtherType
        b.append([0, 0, 0])
        #expect(decodeAll(b.bytes).linkResult == "undefined_vlan_protocol/VLAN")
    }
}
