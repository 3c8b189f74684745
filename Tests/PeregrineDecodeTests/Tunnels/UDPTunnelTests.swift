// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import Testing

@Suite("VXLAN, Geneve, AYIYA")
struct UDPTunnelTests {
    let eth = [UInt8](repeating: 0, count: 14) + ipv4Packet()

    @Test func vxlan() {
        let pkt: [UInt8] = [0x08, 0, 0, 0, 0x00, 0x00, 0x7B, 0x00] + eth  // I flag, VNI 123
        let o = withPayload(pkt) { VXLAN.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 11, length: eth.count, kind: .ethernet))
        #expect(o.verdict == .valid)
        #expect(withPayload(pkt) { b, off, _ in VXLAN.vni(b, offset: off) } == 123)
        #expect(withPayload([0x00, 0, 0, 0, 0, 0, 1, 0] + eth) { VXLAN.parse($0, offset: $1, length: $2) }.verdict
            == .violation)
        let empty = withPayload(Array(pkt.prefix(8))) { VXLAN.parse($0, offset: $1, length: $2) }
        #expect(has(empty, .vxlanEmptyPacket) && empty.verdict == .valid && empty.payload == nil)
        for (n, o) in prefixOutcomes(pkt, { VXLAN.parse($0, offset: $1, length: $2) }).enumerated() where n < 8 {
            #expect(o.verdict == .violation && o.weird == nil)
        }
    }

    @Test func geneve() {
        // Version 0, 1 option word; protocol 0x6558; VNI 5; option class 0x0102 type 3 len 0.
        let pkt: [UInt8] = [0x01, 0x00, 0x65, 0x58, 0, 0, 5, 0, 0x01, 0x02, 0x03, 0x00] + eth
        let o = withPayload(pkt) { Geneve.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 15, length: eth.count, kind: .ethernet))
        #expect(o.verdict == .valid)
        let v4: [UInt8] = [0x00, 0x00, 0x08, 0x00, 0, 0, 5, 0] + ipv4Packet()
        #expect(withPayload(v4) { Geneve.parse($0, offset: $1, length: $2) }.payload?.kind == .rawIP)
        let v6: [UInt8] = [0x00, 0x00, 0x86, 0xDD, 0, 0, 5, 0] + ipv6Packet()
        let o6 = withPayload(v6) { Geneve.parse($0, offset: $1, length: $2) }
        #expect(o6.payload == nil && o6.verdict == .valid)  // Zeek maps 0x08DD, not 0x86DD
        let badVersion = withPayload([0x40, 0, 0x65, 0x58, 0, 0, 5, 0] + eth) { Geneve.parse($0, offset: $1, length: $2) }
        #expect(has(badVersion, .geneveInvalidVersion) && badVersion.verdict == .none)
        let outcomes = prefixOutcomes(pkt) { Geneve.parse($0, offset: $1, length: $2) }
        for n in 0..<12 { #expect(outcomes[n].verdict == .violation, "prefix \(n)") }
        #expect(has(outcomes[12], .geneveEmptyPacket))
    }

    @Test func ayiya() {
        // identity 2^1 = 2 bytes (b0 = 0x11), signature 1 word (b1 = 0x12... high nibble 1), forward, next 41.
        let hdr: [UInt8] = [0x11, 0x12, 0x01, 41, 0, 0, 0, 0] + [0xAA, 0xBB] + [1, 2, 3, 4]
        let pkt = hdr + ipv6Packet()
        let o = withPayload(pkt) { AYIYA.parse($0, offset: $1, length: $2) }
        #expect(o.payload == TunnelPayload(offset: 3 + 14, length: 48, kind: .rawIP))
        #expect(o.verdict == .valid)
        var notForward = pkt
        notForward[2] = 0x02
        let q = withPayload(notForward) { AYIYA.parse($0, offset: $1, length: $2) }
        #expect(q.payload == nil && q.verdict == .none && q.weird == nil)
        #expect(has(withPayload(hdr) { AYIYA.parse($0, offset: $1, length: $2) }, .ayiyaEmptyPacket))
        for (n, o) in prefixOutcomes(pkt, { AYIYA.parse($0, offset: $1, length: $2) }).enumerated() where n < 14 {
            #expect(o.verdict == .violation, "prefix \(n)")
        }
        #expect(withPayload([0x11, 0x52, 0x11]) { AYIYA.detect($0, offset: $1, length: $2) })
        #expect(!withPayload([0x11, 0x52]) { AYIYA.detect($0, offset: $1, length: $2) })
    }

    @Test func kindsAndPorts() {
        #expect(TunnelKind.udpKind(responderPort: 4789) == .vxlan)
        #expect(TunnelKind.udpKind(responderPort: 2123) == .gtpv1)
        #expect(TunnelKind.udpKind(responderPort: 53) == nil)
        #expect(TunnelKind.gtpv1.tunnelType.description == "Tunnel::GTPv1")
        #expect(TunnelKind.gre.service == nil && TunnelKind.teredo.service?.description == "teredo")
        #expect(TunnelKind.gtpv1.depthExceededWeird.nameString == "tunnel_depth")
        #expect(Tunnel.maxDepth == 4)
    }

    @Test func corpusFirstVXLANPacket() throws {
        guard let frames = corpusFrames("vxlan", "vxlan.pcap") else {
            print("skipped: ../shared/corpus/zeek/vxlan absent")
            return
        }
        let frame = try #require(frames.first { outerUDP($0, port: 4789) != nil })
        let u = try #require(outerUDP(frame, port: 4789))
        let o = frame.withUnsafeBytes { VXLAN.parse($0, offset: u.offset, length: u.length) }
        let p = try #require(o.payload)
        #expect(p.kind == .ethernet && o.verdict == .valid)
        #expect(frame[p.offset + 12] == 0x08 && (frame[p.offset + 13] == 0x06 || frame[p.offset + 13] == 0x00))
        // The first VXLAN frame carrying IPv4 is the inner ICMP conn of conn.log (10.0.0.1 <-> 10.0.0.2).
        let ipFrame = try #require(frames.first { f in
            guard let u = outerUDP(f, port: 4789), u.length > 8 + 14 else { return false }
            return f[u.offset + 8 + 12] == 0x08 && f[u.offset + 8 + 13] == 0x00
        })
        let u2 = try #require(outerUDP(ipFrame, port: 4789))
        let p2 = try #require(ipFrame.withUnsafeBytes { VXLAN.parse($0, offset: u2.offset, length: u2.length) }.payload)
        let src = Array(ipFrame[(p2.offset + 26)..<(p2.offset + 30)])
        #expect(src == [10, 0, 0, 1] || src == [10, 0, 0, 2])
    }
}
