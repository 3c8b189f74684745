// SPDX-License-Identifier: Apache-2.0
import PeregrineDecode
import PeregrineTestSupport
import Testing

/// The symmetric flow hash on hand-built frames: symmetry, fragments, VLAN tags, IPv6 extension
/// headers, and known answers of the MurmurHash3 mix. Agreement with the BPF programs, bit for bit,
/// is tested in PeregrineCaptureTests (BPF/FlowHashAgreementTests.swift).
@Suite struct SymmetricFlowHashTests {
    static let seed: UInt32 = 0x5EED_1234

    func hash(_ frame: [UInt8], seed: UInt32 = seed) -> UInt32 {
        frame.withUnsafeBytes { SymmetricFlowHash.hash(ethernetFrame: $0, seed: seed) }
    }

    func tcp4(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, ipFlags: UInt16 = 0, offset: Int = 0) -> [UInt8] {
        Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 6, payloadLength: 20, src: src, dst: dst, flags: ipFlags, fragmentOffset: offset)
            + Headers.tcp(src: sport, dst: dport)
    }

    func tcp6(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, extensions: [UInt8] = [], firstNext: UInt8 = 6) -> [UInt8] {
        Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: firstNext, payloadLength: extensions.count + 20, src: src, dst: dst)
            + extensions + Headers.tcp(src: sport, dst: dport)
    }

    /// MurmurHash3 x86_32 of the key's ten words, computed with the reference C code (smhasher's
    /// MurmurHash3_x86_32 over the words' little-endian bytes).
    @Test func knownAnswers() {
        // Not IP: the all-zero key.
        #expect(hash(Headers.ethernet(type: 0x0806) + [UInt8](repeating: 0, count: 28), seed: 0) == 0xC206_7AE9)
        #expect(hash([0x00, 0x01], seed: 0x9747_B28C) == 0x4C9E_02A7)
        // 10.0.0.1:1234 -> 10.0.0.2:80 TCP: key (::ffff:10.0.0.1, ::ffff:10.0.0.2, 1234 << 16 | 80, 6).
        let frame = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1234, dport: 80)
        #expect(hash(frame, seed: 0) == 0x7653_16C5)
        #expect(hash(frame, seed: 1) == 0x5E04_E7A9)
    }

    @Test func bothDirectionsHashAlike() {
        let forward = tcp4(src: [192, 168, 1, 9], dst: [10, 0, 0, 2], sport: 40000, dport: 443)
        let reverse = tcp4(src: [10, 0, 0, 2], dst: [192, 168, 1, 9], sport: 443, dport: 40000)
        #expect(hash(forward) == hash(reverse))
        // Same addresses, ports swapped: ordered by port.
        let sameHostA = tcp4(src: [10, 0, 0, 7], dst: [10, 0, 0, 7], sport: 1, dport: 2)
        let sameHostB = tcp4(src: [10, 0, 0, 7], dst: [10, 0, 0, 7], sport: 2, dport: 1)
        #expect(hash(sameHostA) == hash(sameHostB))
        let v6Forward = tcp6(src: Headers.v6(9), dst: Headers.v6(2), sport: 5000, dport: 22)
        let v6Reverse = tcp6(src: Headers.v6(2), dst: Headers.v6(9), sport: 22, dport: 5000)
        #expect(hash(v6Forward) == hash(v6Reverse))
        let udp = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 8) + Headers.udp(payloadLength: 0)
        let udpBack = Headers.ethernet(type: 0x0800) + Headers.ipv4(proto: 17, payloadLength: 8, src: [10, 0, 0, 2], dst: [10, 0, 0, 1])
            + Headers.udp(src: 53, dst: 5353, payloadLength: 0)
        #expect(hash(udp) == hash(udpBack))
    }

    @Test func portsProtocolAndSeedChangeTheValue() {
        let base = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1234, dport: 80)
        #expect(hash(base) != hash(tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1235, dport: 80)))
        #expect(hash(base) != hash(base, seed: Self.seed &+ 1))
        var udp = base
        udp[14 + 9] = 17  // protocol TCP -> UDP, same ports
        #expect(hash(base) != hash(udp))
    }

    /// Every fragment of a datagram, the first included, hashes on addresses and protocol alone,
    /// the same in both directions; unfragmented packets of the flow include the ports.
    @Test func fragmentsHashOnAddressesAndProtocol() {
        let first = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1234, dport: 80, ipFlags: 0x2000)
        let later = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 9, dport: 9, offset: 1480)
        let laterReverse = tcp4(src: [10, 0, 0, 2], dst: [10, 0, 0, 1], sport: 7, dport: 7, offset: 8)
        let whole = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1234, dport: 80, ipFlags: 0x4000)  // DF only
        #expect(hash(first) == hash(later))
        #expect(hash(first) == hash(laterReverse))
        #expect(hash(first) != hash(whole))
        // The 3-tuple key is the key of a packet without ports: TCP cut after the IP header.
        #expect(hash(first) == hash(Array(whole.prefix(14 + 20))))

        // IPv6: Fragment header (next TCP, offset 0, M set) and a later fragment (offset 185, M clear).
        let fragment: (UInt16) -> [UInt8] = { offsetAndFlags in
            [6, 0, UInt8(offsetAndFlags >> 8), UInt8(offsetAndFlags & 0xFF), 0, 0, 0, 42]  // next, reserved, offset|M, id
        }
        let v6First = tcp6(src: Headers.v6(1), dst: Headers.v6(2), sport: 1234, dport: 80, extensions: fragment(0x0001), firstNext: 44)
        let v6Later = tcp6(src: Headers.v6(2), dst: Headers.v6(1), sport: 5, dport: 6, extensions: fragment(185 << 3), firstNext: 44)
        let v6NoPorts = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 6, payloadLength: 0)
        #expect(hash(v6First) == hash(v6Later))
        #expect(hash(v6First) == hash(v6NoPorts))
        // An atomic fragment (offset 0, M clear) is walked over: the ports count.
        let atomic = tcp6(src: Headers.v6(1), dst: Headers.v6(2), sport: 1234, dport: 80, extensions: fragment(0), firstNext: 44)
        #expect(hash(atomic) == hash(tcp6(src: Headers.v6(1), dst: Headers.v6(2), sport: 1234, dport: 80)))
    }

    @Test func extensionHeadersAreWalked() {
        let plain = tcp6(src: Headers.v6(1), dst: Headers.v6(2), sport: 1234, dport: 80)
        // hop-by-hop (8 bytes, next routing), routing (16 bytes: length 1, next destination options),
        // destination options (8 bytes, next TCP).
        let hopByHop: [UInt8] = [43, 0, 1, 4, 0, 0, 0, 0]
        let routing: [UInt8] = [60, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        let destination: [UInt8] = [6, 0, 1, 4, 0, 0, 0, 0]
        let walked = tcp6(
            src: Headers.v6(1), dst: Headers.v6(2), sport: 1234, dport: 80, extensions: hopByHop + routing + destination,
            firstNext: 0)
        #expect(hash(walked) == hash(plain))
        // More than maxIPv6Extensions headers: the walk stops on an extension header's number, no ports.
        let chain = (0..<SymmetricFlowHash.maxIPv6Extensions + 1).flatMap { _ in [UInt8]([60, 0, 1, 4, 0, 0, 0, 0]) }
        let tooMany = tcp6(src: Headers.v6(1), dst: Headers.v6(2), sport: 1234, dport: 80, extensions: chain, firstNext: 60)
        let noPorts = Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 60, payloadLength: 0)
        #expect(hash(tooMany) == hash(noPorts))
        // A cut-short extension header: likewise.
        #expect(hash(Array(walked.prefix(14 + 40 + 1))) == hash(Headers.ethernet(type: 0x86DD) + Headers.ipv6(next: 0, payloadLength: 0)))
    }

    @Test func upToTwoVLANTagsAreSkipped() {
        let plain = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1234, dport: 80)
        let ip = Array(plain.dropFirst(14))
        let macs = Array(plain.prefix(12))
        let dot1q = macs + [0x81, 0x00, 0x00, 0x0A, 0x08, 0x00] + ip  // TPID, TCI (VLAN 10), IPv4
        let qinq = macs + [0x88, 0xA8, 0x00, 0x14, 0x81, 0x00, 0x00, 0x0A, 0x08, 0x00] + ip  // S-tag 20, C-tag 10
        let three = macs + [0x88, 0xA8, 0x00, 0x14, 0x81, 0x00, 0x00, 0x0A, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00] + ip
        let otherVLAN = macs + [0x81, 0x00, 0x00, 0x0B, 0x08, 0x00] + ip
        #expect(hash(dot1q) == hash(plain))
        #expect(hash(qinq) == hash(plain))
        #expect(hash(otherVLAN) == hash(plain))  // the tag's value is not part of the key
        #expect(hash(three) == hash(Headers.ethernet(type: 0x0806)))  // a third tag: not IP
    }

    @Test func malformedFramesHashAsNotIP() {
        let notIP = hash(Headers.ethernet(type: 0x0806))
        #expect(hash([]) == notIP)
        #expect(hash(Headers.ethernet(type: 0x0800) + [0x45, 0, 0]) == notIP)  // truncated IPv4 header
        var badVersion = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1, dport: 2)
        badVersion[14] = 0x65
        #expect(hash(badVersion) == notIP)
        var shortIHL = tcp4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1, dport: 2)
        shortIHL[14] = 0x44
        #expect(hash(shortIHL) == notIP)
        #expect(hash(Headers.ethernet(type: 0x86DD) + [0x60] + [UInt8](repeating: 0, count: 38)) == notIP)
    }
}
