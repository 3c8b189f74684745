// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

/// Random and mutated frames through every decoder and the reassembler: nothing may trap.
@Suite struct RobustnessTests {
    /// A small deterministic generator (SplitMix64) so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func run(_ bytes: [UInt8], _ linkType: LinkType, _ reassembler: FragmentReassembler, _ i: Int) {
        bytes.withUnsafeBytes { frame in
            var link = LinkLayer()
            var ip = IPLayer()
            var t = TransportLayer()
            guard case .ok = LinkDecoder.decode(frame, linkType: linkType, into: &link),
                case .ok = IPDecoder.decode(frame, offset: link.networkOffset, etherType: link.etherType, verifyChecksum: i % 2 == 0, into: &ip)
            else { return }
            _ = TransportDecoder.decode(frame, ip: ip, verifyChecksum: true, into: &t)
            _ = IGMPDecoder.validate(frame, ip: ip)
            if ip.isFragment {
                _ = reassembler.add(frame: frame, ip: ip, timestamp: Timestamp(seconds: Int64(i), nanoseconds: 0))
            }
        }
    }

    @Test func randomFramesNeverTrap() {
        var rng = SplitMix(state: 42)
        let reassembler = FragmentReassembler(slotCount: 8, byteBudget: 8 * 65_536)
        let linkTypes: [LinkType] = [.ethernet, .raw, .null, .loop, .linuxSLL, .linuxSLL2, .ipv4, .ipv6]
        for i in 0..<20_000 {
            let n = Int.random(in: 0...200, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            run(bytes, linkTypes[i % linkTypes.count], reassembler, i)
        }
        #expect(reassembler.slotsInUse <= 8)
    }

    @Test func mutatedValidFramesNeverTrap() {
        var rng = SplitMix(state: 7)
        let reassembler = FragmentReassembler(slotCount: 4, byteBudget: 4 * 4096)
        let seeds: [[UInt8]] = [
            udp4Frame(), tcp4Frame(payload: [1, 2, 3]),
            Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 44, payloadLength: 16) + [17, 0, 0, 1, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 8),
            Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 16, flags: 0x2000) + [UInt8](repeating: 0, count: 16),
        ]
        for i in 0..<20_000 {
            var bytes = seeds[i % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
            run(bytes, .ethernet, reassembler, i)
        }
        #expect(reassembler.slotsInUse <= 4)
    }

    @Test func inconsistentIPLayerIsRefused() {
        var ip = IPLayer()
        ip.version = 4
        ip.transportProtocol = 6
        ip.payloadOffset = 1000
        ip.payloadLength = 20
        ip.capturedPayloadLength = 20
        var t = TransportLayer()
        let r = [UInt8](repeating: 0, count: 40).withUnsafeBytes { TransportDecoder.decode($0, ip: ip, verifyChecksum: true, into: &t) }
        #expect(outcome(r) == "stop")
    }
}
