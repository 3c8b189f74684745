// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@Suite struct FragmentReassemblerTests {
    /// The UDP datagram (header + 40 payload bytes) that the fragments carry.
    static let datagram: [UInt8] = Headers.withChecksum(
        Headers.udp(payloadLength: 40) + (0..<40).map { UInt8($0) }, checksumOffset: 6, proto: 17,
        src: [10, 0, 0, 1], dst: [10, 0, 0, 2])

    /// A raw IPv4 fragment carrying `datagram[offset..<offset+length]`.
    func frag4(_ offset: Int, _ length: Int, more: Bool, id: UInt16 = 9, data: [UInt8]? = nil, df: Bool = false) -> [UInt8] {
        let bytes = data ?? Array(Self.datagram[offset..<(offset + length)])
        let flags: UInt16 = (more ? 0x2000 : 0) | (df ? 0x4000 : 0)
        return Headers.ipv4(proto: 17, payloadLength: bytes.count, id: id, flags: flags, fragmentOffset: offset) + bytes
    }

    /// Decodes `packet` (raw IP) and adds it; returns the outcome and the weird names raised.
    func add(_ r: FragmentReassembler, _ packet: [UInt8], at seconds: Int64 = 1) -> (String, [String], [UInt8]) {
        var ip = IPLayer()
        return packet.withUnsafeBytes { b in
            _ = IPDecoder.decode(b, offset: 0, etherType: 0x0800, verifyChecksum: true, into: &ip)
            let result = r.add(frame: b, ip: ip, timestamp: Timestamp(seconds: seconds, nanoseconds: 0))
            let weirds = (0..<r.weirdCount).map { r.weird(at: $0).nameString }
            switch result {
            case .incomplete: return ("incomplete", weirds, [])
            case .complete(let p): return ("complete", weirds, Array(p))
            case .dropped(let w): return ("dropped:\(w?.nameString ?? "")", weirds, [])
            }
        }
    }

    /// Checks a reassembled IPv4 packet decodes to the original UDP datagram.
    func expectDatagram(_ packet: [UInt8]) {
        let d = decodeAll(packet, linkType: .raw)
        #expect(d.ipResult == "ok")
        #expect(!d.ip.isFragment)
        #expect(d.ip.totalLength == 20 + Self.datagram.count)
        #expect(d.transportResult == "ok")
        #expect(d.transport.checksumValid)
        #expect(Array(packet.dropFirst(20)) == Self.datagram)
    }

    @Test func inOrder() {
        let r = FragmentReassembler()
        #expect(add(r, frag4(0, 16, more: true)).0 == "incomplete")
        #expect(r.slotsInUse == 1)
        #expect(add(r, frag4(16, 16, more: true)).0 == "incomplete")
        let (outcome, weirds, packet) = add(r, frag4(32, 16, more: false))
        #expect(outcome == "complete")
        #expect(weirds == ["excessively_small_fragment"] || weirds.isEmpty)
        expectDatagram(packet)
        #expect(r.slotsInUse == 0)
    }

    @Test func outOfOrder() {
        let r = FragmentReassembler()
        #expect(add(r, frag4(32, 16, more: false)).0 == "incomplete")
        #expect(add(r, frag4(0, 16, more: true)).0 == "incomplete")
        let (outcome, _, packet) = add(r, frag4(16, 16, more: true))
        #expect(outcome == "complete")
        expectDatagram(packet)
    }

    @Test func smallNonLastFragmentsAreWeird() {
        let r = FragmentReassembler()
        #expect(add(r, frag4(0, 16, more: true)).1 == ["excessively_small_fragment"])  // total length 36 < 64
    }

    @Test func overlapsKeepFirstBytes() {
        let r = FragmentReassembler()
        _ = add(r, frag4(0, 24, more: true))
        // Same bytes again at 16..<32: fragment_overlap.
        #expect(add(r, frag4(16, 16, more: true)).1.contains("fragment_overlap"))
        // Different bytes at 24..<40 overlapping 24..<32: fragment_inconsistency; old bytes kept.
        var forged = Array(Self.datagram[24..<40])
        forged[0] ^= 0xFF
        forged[15] = Self.datagram[39]
        #expect(add(r, frag4(24, 16, more: true, data: forged)).1.contains("fragment_inconsistency"))
        let (outcome, _, packet) = add(r, frag4(40, 8, more: false))
        #expect(outcome == "complete")
        expectDatagram(packet)
    }

    @Test func dfAndSizeInconsistency() {
        let r = FragmentReassembler()
        #expect(add(r, frag4(0, 16, more: true, df: true)).1.contains("fragment_with_DF"))
        _ = add(r, frag4(32, 16, more: false))
        // A second "last" fragment ending earlier.
        #expect(add(r, frag4(16, 8, more: false)).1.contains("fragment_size_inconsistency"))
    }

    @Test func timeoutFreesSlots() {
        let r = FragmentReassembler(timeout: .seconds(30))
        _ = add(r, frag4(0, 16, more: true), at: 1)
        #expect(r.slotsInUse == 1)
        r.expire(now: Timestamp(seconds: 40, nanoseconds: 0))
        #expect(r.slotsInUse == 0)
        #expect(r.timeouts == 1)
        // The rest arrives too late: a new slot starts and stays incomplete.
        #expect(add(r, frag4(16, 32, more: false), at: 41).0 == "incomplete")
    }

    @Test func fullTableEvictsOldest() {
        let r = FragmentReassembler(slotCount: 2)
        _ = add(r, frag4(0, 16, more: true, id: 1), at: 1)
        _ = add(r, frag4(0, 16, more: true, id: 2), at: 2)
        _ = add(r, frag4(0, 16, more: true, id: 3), at: 3)
        #expect(r.evictions == 1)
        #expect(r.slotsInUse == 2)
        // id 1 was evicted: its tail alone cannot complete.
        #expect(add(r, frag4(16, 32, more: false, id: 1), at: 4).0 == "incomplete")
        // id 3 survives and completes.
        _ = add(r, frag4(16, 16, more: true, id: 3), at: 5)
        #expect(add(r, frag4(32, 16, more: false, id: 3), at: 5).0 == "complete")
    }

    @Test func overBudgetIsDropped() {
        let r = FragmentReassembler(slotCount: 4, byteBudget: 4 * 1024)  // 1 KiB per slot
        let far = Headers.ipv4(proto: 17, payloadLength: 16, id: 5, flags: 0x2000, fragmentOffset: 8000) + [UInt8](repeating: 1, count: 16)
        #expect(add(r, far).0 == "dropped:excessively_large_fragment")
        #expect(r.slotsInUse == 0)
        // The largest IPv4 offset with the default budget: above 64000, dropped beyond the slot.
        let r2 = FragmentReassembler(slotCount: 1)
        let huge = Headers.ipv4(proto: 17, payloadLength: 1000, id: 6, flags: 0x2000, fragmentOffset: 8191 * 8) + [UInt8](repeating: 1, count: 1000)
        let (outcome, weirds, _) = add(r2, huge)
        #expect(outcome == "dropped:excessively_large_fragment")
        #expect(weirds.contains("excessively_large_fragment"))
    }

    @Test func endlessOverlapsStayBounded() {
        let r = FragmentReassembler(slotCount: 1)
        for i in 0..<2000 {
            _ = add(r, frag4(0, 16, more: true, id: 7), at: Int64(1 + i / 1000))
        }
        #expect(r.slotsInUse == 1)
        #expect(r.weirdCount <= FragmentReassembler.maxWeirdsPerAdd)
    }

    @Test func ipv6FragmentsLoseTheirFragmentHeader() {
        var payload = Array(Self.datagram)
        payload[6] = 0; payload[7] = 0  // clear the IPv4 checksum before computing the IPv6 one
        let full = Headers.withChecksum(payload, checksumOffset: 6, proto: 17, src: Headers.v6(1), dst: Headers.v6(2))
        let hop: [UInt8] = [44, 0, 1, 4, 0, 0, 0, 0]  // hop-by-hop, next = Fragment
        func frag6(_ offset: Int, _ length: Int, more: Bool) -> [UInt8] {
            let fh: [UInt8] = [17, 0, UInt8((offset >> 8) & 0xFF), UInt8(offset & 0xF8) | (more ? 1 : 0), 0, 0, 0, 42]
            let body = Array(full[offset..<(offset + length)])
            return Headers.ipv6(next: 0, payloadLength: hop.count + fh.count + body.count) + hop + fh + body
        }
        let r = FragmentReassembler()
        #expect(add(r, frag6(24, 24, more: false)).0 == "incomplete")
        let (outcome, _, packet) = add(r, frag6(0, 24, more: true))
        #expect(outcome == "complete")
        #expect(packet.count == 40 + 8 + full.count)
        let d = decodeAll(packet, linkType: .raw)
        #expect(d.ipResult == "ok")
        #expect(!d.ip.isFragment)
        #expect(d.ip.transportProtocol == 17)
        #expect(d.ip.headerLength == 48)
        #expect(d.transportResult == "ok")
        #expect(d.transport.checksumValid)
    }
}
