// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct ICMPTests {
    func echo4(payload: [UInt8]) -> [UInt8] {
        var icmp: [UInt8] = [8, 0, 0, 0, 0x12, 0x34, 0, 1] + payload  // echo request, code 0, checksum, id, seq
        let sum = PacketBuilder.internetChecksum(icmp)
        icmp[2] = UInt8(sum >> 8); icmp[3] = UInt8(sum & 0xFF)
        return Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 1, payloadLength: icmp.count) + icmp
    }

    @Test func icmpv4Echo() {
        let d = decodeAll(echo4(payload: [1, 2, 3]))
        #expect(d.transportResult == "ok")
        #expect(d.transport.icmpType == 8)
        #expect(d.transport.icmpCode == 0)
        #expect(d.transport.payloadOffset == 14 + 20 + 8)
        #expect(d.transport.payloadLength == 3)
        #expect(d.transport.checksumValid)
        var bad = echo4(payload: [1, 2, 3])
        bad[bad.count - 1] = 9
        #expect(!decodeAll(bad).transport.checksumValid)
    }

    @Test func icmpv6UsesPseudoHeader() {
        let icmp: [UInt8] = [128, 0, 0, 0, 0, 1, 0, 1]  // echo request, code, checksum, id, seq
        let good = Headers.withChecksum(icmp, checksumOffset: 2, proto: 58, src: Headers.v6(1), dst: Headers.v6(2))
        let d = decodeAll(Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 58, payloadLength: 8) + good)
        #expect(d.transport.icmpType == 128)
        #expect(d.transport.checksumValid)
        #expect(d.transport.payloadLength == 0)
        let bad = decodeAll(Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 58, payloadLength: 8) + icmp)
        #expect(!bad.transport.checksumValid)
    }

    @Test func truncatedHeader() {
        let short = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 1, payloadLength: 4) + [8, 0, 0, 0]
        #expect(decodeAll(short).transportResult == "truncated_header/ICMP")
    }

    @Test func igmpChecksum() {
        var igmp: [UInt8] = [0x16, 0, 0, 0, 224, 0, 0, 251]  // v2 membership report, max resp, checksum, group
        let sum = PacketBuilder.internetChecksum(igmp)
        igmp[2] = UInt8(sum >> 8); igmp[3] = UInt8(sum & 0xFF)
        for (bytes, expected) in [(igmp, nil as String?), ([0x16, 0, 0xAB, 0xCD, 224, 0, 0, 251], "igmp_invalid_checksum/IGMP")] {
            let frame = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 2, payloadLength: 8) + bytes
            let d = decodeAll(frame)
            let w = frame.withUnsafeBytes { IGMPDecoder.validate($0, ip: d.ip) }
            #expect(w.map { "\($0.nameString)/\($0.sourceString)" } == expected)
        }
    }
}
