// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct EthernetTests {
    @Test func ethernetIPv4() {
        let d = decodeAll(udp4Frame())
        #expect(d.linkResult == "ok")
        #expect(d.link.networkOffset == 14)
        #expect(d.link.etherType == 0x0800)
        #expect(d.link.destinationMAC == 0x0011_2233_4402)
        #expect(d.link.sourceMAC == 0x0011_2233_4404)
    }

    @Test func arpKeepsItsEtherType() {
        let frame = Headers.ethernet(type: 0x0806) + [UInt8](repeating: 0, count: 28)  // ARP body
        let d = decodeAll(frame)
        #expect(d.linkResult == "ok")
        #expect(d.link.etherType == 0x0806)
        #expect(d.ipResult == "-")
    }

    @Test func everyTruncationOfTheHeader() {
        let frame = udp4Frame()
        for n in 0...16 {
            #expect(decodeAll(Array(frame.prefix(n))).linkResult == "truncated_ethernet_frame/Ethernet")
        }
        #expect(decodeAll(Array(frame.prefix(17))).linkResult == "ok")
    }

    @Test func lengthFramesAndUndefinedTypes() {
        // 802.3 length 3 + LLC header (DSAP, SSAP, control): nobody decodes it, no weird.
        #expect(decodeAll(Headers.ethernet(type: 3) + [0x42, 0x42, 0x03]).linkResult == "stop")
        // Length 100 but only 3 bytes follow.
        #expect(decodeAll(Headers.ethernet(type: 100) + [0x42, 0x42, 0x03]).linkResult == "truncated_ethernet_frame/Ethernet")
        #expect(decodeAll(Headers.ethernet(type: 1510) + [0, 0, 0]).linkResult == "undefined_ether_type/Ethernet")
    }

    @Test func linuxCookedV1AndV2() {
        let ip = Array(udp4Frame().dropFirst(14))
        var sll = PacketBuilder()
        sll.append16(0)  // packet type: to us
        sll.append16(1)  // ARPHRD_ETHER
        sll.append16(6)  // address length
        sll.append([0, 1, 2, 3, 4, 5, 0, 0])  // address (padded to 8)
        sll.append16(0x0800)  // protocol
        let v1 = decodeAll(sll.bytes + ip, linkType: .linuxSLL)
        #expect(v1.transportResult == "ok")
        #expect(v1.link.networkOffset == 16)
        #expect(decodeAll(sll.bytes, linkType: .linuxSLL).linkResult == "truncated_Linux_SLL_header/LinuxSLL")

        var sll2 = PacketBuilder()
        sll2.append16(0x86DD)  // protocol
        sll2.append16(0)  // reserved
        sll2.append32(2)  // interface index
        sll2.append16(1)  // ARPHRD_ETHER
        sll2.append([0, 6])  // packet type, address length
        sll2.append([0, 1, 2, 3, 4, 5, 0, 0])  // address
        let v2 = decodeAll(sll2.bytes + Headers.ipv6(next: 59, payloadLength: 0), linkType: .linuxSLL2)
        #expect(v2.link.networkOffset == 20)
        #expect(v2.link.etherType == 0x86DD)
        #expect(v2.ipResult == "ipv6_no_next/IP")
        #expect(decodeAll(sll2.bytes, linkType: .linuxSLL2).linkResult == "truncated_Linux_SLL2_header/LinuxSLL2")
    }

    @Test func nullLoopAndRaw() {
        let ip = Array(udp4Frame().dropFirst(14))
        #expect(decodeAll([2, 0, 0, 0] + ip, linkType: .null).transportResult == "ok")  // AF_INET, little-endian
        #expect(decodeAll([0, 0, 0, 2] + ip, linkType: .loop).transportResult == "ok")  // AF_INET, network order
        let v6 = Headers.ipv6(next: 59, payloadLength: 0)
        #expect(decodeAll([30, 0, 0, 0] + v6, linkType: .null).link.etherType == 0x86DD)  // Darwin AF_INET6
        #expect(decodeAll([7, 0, 0, 0] + ip, linkType: .null).linkResult == "stop")
        #expect(decodeAll([2, 0, 0, 0], linkType: .null).linkResult == "null_analyzer_failed/")
        #expect(decodeAll(ip, linkType: .raw).transportResult == "ok")
        #expect(decodeAll(v6, linkType: .raw).link.etherType == 0x86DD)
    }
}
