// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCore
import PeregrineDecode
import Testing

/// Decodes every packet of every classic-pcap trace in `../shared/corpus/zeek` up to the transport
/// layer (pcapng traces are skipped): nothing may trap, and a few traces' known contents must show.
@Suite struct CorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/corpus/zeek").standardizedFileURL

    /// Tallies of one trace.
    struct Tally {
        var packets = 0
        var ipOK = 0
        var transportOK = 0
        var weirds: [String: Int] = [:]
        var innerVLANs = Set<UInt16>()
        var icmpv6 = 0
        var reassembled = 0
    }

    /// Calls `body` with (link type, wire length, frame) for each record of a classic pcap file.
    static func forEachPacket(_ data: Data, _ body: (LinkType, Int, UnsafeRawBufferPointer) -> Void) -> Bool {
        data.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> Bool in
            guard b.count >= 24 else { return false }
            let magic = b.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            let swapped: Bool
            switch magic {
            case 0xA1B2_C3D4, 0xA1B2_3C4D: swapped = false
            case 0xD4C3_B2A1, 0x4D3C_B2A1: swapped = true
            default: return false  // pcapng or unknown
            }
            func u32(_ o: Int) -> UInt32 {
                let v = b.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                return swapped ? v.byteSwapped : v
            }
            guard let linkType = LinkType(rawValue: u32(20) & 0x0FFF_FFFF) else { return false }
            var off = 24
            while off + 16 <= b.count {
                let capLen = Int(u32(off + 8))
                let wireLen = Int(u32(off + 12))
                guard off + 16 + capLen <= b.count else { break }
                body(linkType, wireLen, UnsafeRawBufferPointer(rebasing: b[(off + 16)..<(off + 16 + capLen)]))
                off += 16 + capLen
            }
            return true
        }
    }

    static func decodeTrace(_ url: URL) -> Tally? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        var tally = Tally()
        let reassembler = FragmentReassembler()
        func note(_ r: DecodeResult) {
            if case .stop(let w?) = r { tally.weirds["\(w.nameString)/\(w.sourceString)", default: 0] += 1 }
        }
        func transport(_ frame: UnsafeRawBufferPointer, _ ip: IPLayer) {
            var t = TransportLayer()
            let r = TransportDecoder.decode(frame, ip: ip, verifyChecksum: true, into: &t)
            note(r)
            if case .ok = r { tally.transportOK += 1 }
            if ip.transportProtocol == 58 { tally.icmpv6 += 1 }
            if let w = IGMPDecoder.validate(frame, ip: ip) { tally.weirds["\(w.nameString)/\(w.sourceString)", default: 0] += 1 }
        }
        let ok = forEachPacket(data) { linkType, wireLength, frame in
            tally.packets += 1
            var link = LinkLayer()
            let lr = LinkDecoder.decode(frame, linkType: linkType, into: &link)
            note(lr)
            guard case .ok = lr, link.etherType == 0x0800 || link.etherType == 0x86DD else { return }
            if link.innerVlan != 0 { tally.innerVLANs.insert(link.innerVlan) }
            var ip = IPLayer()
            let ir = IPDecoder.decode(
                frame, wireLength: wireLength, offset: link.networkOffset, etherType: link.etherType, verifyChecksum: true, into: &ip)
            note(ir)
            guard case .ok = ir else { return }
            tally.ipOK += 1
            if ip.isFragment && ip.capturedPayloadLength == ip.payloadLength {
                let ipFrame = UnsafeRawBufferPointer(rebasing: frame[link.networkOffset...])
                var local = IPLayer()
                _ = IPDecoder.decode(ipFrame, offset: 0, etherType: link.etherType, verifyChecksum: true, into: &local)
                if case .complete(let packet) = reassembler.add(frame: ipFrame, ip: local, timestamp: .zero) {
                    tally.reassembled += 1
                    var whole = IPLayer()
                    if case .ok = IPDecoder.decode(packet, offset: 0, etherType: link.etherType, verifyChecksum: true, into: &whole) {
                        transport(packet, whole)
                    }
                }
                return
            }
            transport(frame, ip)
        }
        return ok ? tally : nil
    }

    @Test func everyClassicPcapDecodes() throws {
        guard let cases = try? FileManager.default.contentsOfDirectory(atPath: Self.corpus.path) else {
            print("corpus not found at \(Self.corpus.path); skipping")
            return
        }
        var traces = 0
        for name in cases.sorted() {
            let dir = Self.corpus.appendingPathComponent(name)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for file in files where file.hasSuffix(".pcap") {
                guard let tally = Self.decodeTrace(dir.appendingPathComponent(file)) else { continue }
                traces += 1
                #expect(tally.packets > 0, "\(name)")
                #expect(tally.ipOK > 0, "\(name)")
                // GRE and IGMP traces carry nothing the transport decoder takes.
                if name != "gre-sample" && name != "igmp-bad-checksum" { #expect(tally.transportOK > 0, "\(name)") }
                // Only two traces raise decode weirds: the IGMP one, and smtp-starttls, whose IP
                // checksums are offloaded (its baseline runs Zeek with -C).
                if name != "igmp-bad-checksum" && name != "smtp-starttls" {
                    #expect(tally.weirds.isEmpty, "\(name): \(tally.weirds)")
                }
                switch name {
                case "igmp-bad-checksum":
                    #expect(tally.weirds["igmp_invalid_checksum/IGMP"] == 1)
                case "smtp-starttls":
                    #expect(Set(tally.weirds.keys) == ["bad_IP_checksum/IP"])
                case "qinq-vlan-logging":
                    #expect(!tally.innerVLANs.isEmpty)
                case "pppoe-icmp6":
                    #expect(tally.icmpv6 > 0)
                case "gtp-different-ports-frag":
                    #expect(tally.reassembled > 0)
                default:
                    break
                }
            }
        }
        #expect(traces > 20)
    }
}
