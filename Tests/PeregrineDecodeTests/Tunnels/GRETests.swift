// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite("GRE")
struct GRETests {
    @Test func plainIPv4() {
        let pkt: [UInt8] = [0x00, 0x00, 0x08, 0x00] + ipv4Packet()  // no flags, version 0, IPv4
        let o = withPayload(pkt) { GRE.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 7, length: 28, kind: .rawIP))
        #expect(o.weird == nil)
        #expect(o.verdict == .none)
    }

    @Test(arguments: [
        (UInt16(0x0000), 4), (0x8000, 8), (0x2000, 8), (0x1000, 8), (0x0080, 8), (0xA000, 12), (0x3000, 12),
        (0xB000, 16), (0xB080, 20),
    ])
    func flagWordsSetHeaderLength(flags: UInt16, header: Int) {
        #expect(GRE.headerLength(flags: flags) == header)
        var b = PacketBuilder()
        b.append16(flags)
        b.append16(0x86DD)
        b.append([UInt8](repeating: 0xAB, count: header - 4))  // checksum / key / sequence / ack words
        b.append(ipv6Packet())
        let o = b.bytes.withUnsafeBytes { GRE.parse($0, offset: 0, length: b.bytes.count) }
        #expect(o.payload == TunnelPayload(offset: header, length: 48, kind: .rawIP))
    }

    @Test func transparentEthernetBridging() {
        let pkt: [UInt8] = [0x20, 0x00, 0x65, 0x58, 0, 0, 0, 7] + [UInt8](repeating: 0, count: 14) + ipv4Packet()
        let o = withPayload(pkt) { GRE.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 11, length: 14 + 28, kind: .ethernet))
    }

    @Test func erspanTypeIAndII() {
        let eth = [UInt8](repeating: 0, count: 14) + ipv4Packet()
        let typeI: [UInt8] = [0x00, 0x00, 0x88, 0xBE] + eth
        #expect(withPayload(typeI) { GRE.parse($0, offset: $1, length: $2) }.payload
            == TunnelPayload(offset: 7, length: eth.count, kind: .ethernet))
        // Type II: S bit, 4-byte sequence, 8-byte ERSPAN header.
        let typeII: [UInt8] = [0x10, 0x00, 0x88, 0xBE, 0, 0, 0, 1] + [0x10, 0, 0, 1, 0, 0, 0, 0] + eth
        #expect(withPayload(typeII) { GRE.parse($0, offset: $1, length: $2) }.payload
            == TunnelPayload(offset: 3 + 16, length: eth.count, kind: .ethernet))
    }

    @Test func erspanTypeIIIWithAndWithoutPlatformSubheader() {
        let eth = [UInt8](repeating: 0, count: 14) + ipv4Packet()
        let noO: [UInt8] = [0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 12) + eth
        #expect(withPayload(noO) { GRE.parse($0, offset: $1, length: $2) }.payload
            == TunnelPayload(offset: 3 + 20, length: eth.count, kind: .ethernet))
        var hdr = [UInt8](repeating: 0, count: 12)
        hdr[11] = 0x01  // O bit: an 8-byte platform-specific subheader follows
        let withO: [UInt8] = [0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1] + hdr + [UInt8](repeating: 0, count: 8) + eth
        #expect(withPayload(withO) { GRE.parse($0, offset: $1, length: $2) }.payload
            == TunnelPayload(offset: 3 + 28, length: eth.count, kind: .ethernet))
    }

    @Test func arubaIs80211() {
        let pkt: [UInt8] = [0x00, 0x00, 0x90, 0x00, 0x08, 0x00]
        #expect(withPayload(pkt) { GRE.parse($0, offset: $1, length: $2) }.payload?.kind == .ieee80211)
        #expect(GRE.isAruba(0x8200) && GRE.isAruba(0x8370) && !GRE.isAruba(0x8381) && !GRE.isAruba(0x0800))
    }

    @Test func pptpIPv4AndIPv6() {
        // Version 1, K and S bits: key (payload length + call id), sequence.
        let v4: [UInt8] = [0x30, 0x01, 0x88, 0x0B, 0, 32, 0, 5, 0, 0, 0, 9, 0xFF, 0x03, 0x00, 0x21] + ipv4Packet()
        #expect(withPayload(v4) { GRE.parse($0, offset: $1, length: $2) }.payload
            == TunnelPayload(offset: 3 + 16, length: 28, kind: .ipv4))
        let v6: [UInt8] = [0x30, 0x01, 0x88, 0x0B, 0, 32, 0, 5, 0, 0, 0, 9, 0xFF, 0x03, 0x00, 0x57] + ipv6Packet()
        #expect(withPayload(v6) { GRE.parse($0, offset: $1, length: $2) }.payload?.kind == .ipv6)
    }

    @Test func pptpNonIPAndMismatches() {
        let lcp: [UInt8] = [0x30, 0x01, 0x88, 0x0B, 0, 8, 0, 5, 0, 0, 0, 9, 0xFF, 0x03, 0xC0, 0x21, 1, 1, 0, 4]
        #expect(has(withPayload(lcp) { GRE.parse($0, offset: $1, length: $2) }, .nonIPPacketInEncap))
        let wrongVersion: [UInt8] = [0x30, 0x01, 0x88, 0x0B, 0, 32, 0, 5, 0, 0, 0, 9, 0xFF, 0x03, 0x00, 0x57]
            + ipv4Packet(totalLength: 60)  // long enough for an IPv6 header, so the nibble decides
        #expect(has(withPayload(wrongVersion) { GRE.parse($0, offset: $1, length: $2) }, .invalidInnerIPVersion))
        let short: [UInt8] = [0x30, 0x01, 0x88, 0x0B, 0, 32, 0, 5, 0, 0, 0, 9, 0xFF, 0x03, 0x00, 0x21]
            + ipv4Packet(totalLength: 40).prefix(30)
        let o = withPayload(short) { GRE.parse($0, offset: $1, length: $2) }
        #expect(o.payload == nil && o.weird == nil)
        let badType: [UInt8] = [0x30, 0x01, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(has(withPayload(badType) { GRE.parse($0, offset: $1, length: $2) }, .egreProtocolType))
    }

    @Test func versionRoutingAndReservedBits() {
        #expect(has(withPayload([0x00, 0x02, 0x08, 0x00]) { GRE.parse($0, offset: $1, length: $2) }, .unknownGREVersion))
        #expect(has(withPayload([0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0]) { GRE.parse($0, offset: $1, length: $2) }, .greRouting))
        #expect(has(withPayload([0x00, 0x40, 0x08, 0x00] + ipv4Packet()) { GRE.parse($0, offset: $1, length: $2) }, .unknownGREFlags))
    }

    @Test func everyTruncationIsTruncatedGRE() {
        let eth = [UInt8](repeating: 0, count: 14) + ipv4Packet()
        let cases: [[UInt8]] = [
            [0xB0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2],
            [0x00, 0x00, 0x65, 0x58] + eth,
            [0x10, 0x00, 0x88, 0xBE, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 8) + eth,
            [0x10, 0x00, 0x22, 0xEB, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 11) + [1] + [UInt8](repeating: 0, count: 8) + eth,
        ]
        for pkt in cases {
            let outcomes = prefixOutcomes(pkt) { GRE.parse($0, offset: $1, length: $2) }
            for (n, o) in outcomes.enumerated() {
                #expect(o.payload == nil || o.payload!.offset + o.payload!.length <= n, "prefix \(n)")
                if o.payload == nil { #expect(has(o, .truncatedGRE), "prefix \(n)") }
            }
        }
    }

    @Test func corpusFirstGREPacket() throws {
        guard let frames = corpusFrames("gre-sample", "gre-sample.pcap") else {
            print("skipped: ../shared/corpus/zeek/gre-sample absent")
            return
        }
        let frame = try #require(frames.first { outerIPv4($0)?.proto == GRE.ipProtocol })
        let ip = try #require(outerIPv4(frame))
        #expect(ip.src == [172, 27, 1, 66] || ip.dst == [172, 27, 1, 66])  // tunnel.log endpoints
        let o = frame.withUnsafeBytes { GRE.parse($0, offset: ip.offset, length: ip.length) }
        let p = try #require(o.payload)
        #expect(o.weird == nil)
        #expect(frame[p.offset] >> 4 == 4)  // the inner IPv4 packets of conn.log
    }
}
