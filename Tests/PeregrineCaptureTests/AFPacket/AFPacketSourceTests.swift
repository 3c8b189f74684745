// SPDX-License-Identifier: Apache-2.0
import CPeregrineTestBPF
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineTestSupport
import PeregrineSystem
import Testing

/// Live capture on a veth pair in private network namespaces: real Zeek corpus traces are replayed with
/// tcpreplay into one end and captured on the other by a two-socket fanout group.
@Suite("AFPacketSource")
struct AFPacketSourceTests {
    /// Corpus traces with many TCP/UDP flows over IPv4 and IPv6, Q-in-Q tagged frames (q-in-q.pcap) and
    /// a tunnel; none has IP fragments (the default defragmenting fanout would hand them over
    /// reassembled) or frames longer than the veth MTU allows.
    static let traces = [
        "conn-wikipedia/wikipedia.pcap", "ftp-ipv6/ipv6.pcap", "qinq-vlan-logging/q-in-q.pcap", "teredo/Teredo.pcap",
        "http-pipelining/pipelined-requests.pcap", "ssl-tls12/tls1.2.pcap", "smtp-starttls/smtp-starttls.pcap",
        "known-services-sslh/ssl-and-ssh-using-sslh.pcap",
    ].map { PcapTestFiles.zeekCorpus.appendingPathComponent($0).path }

    /// Small rings (8 × 1 MiB per socket) hold a whole replay, so the test reads after tcpreplay ends.
    static var smallRings: AFPacketConfiguration {
        var configuration = AFPacketConfiguration()
        configuration.blockCount = 8
        return configuration
    }

    @Test(
        "two fanout sockets receive every replayed frame exactly once, byte for byte, flows unsplit",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"))
    func fanoutDeliversEveryFrameOnce() throws {
        let expected = try Self.frames(in: Self.traces, filter: nil)
        #expect(expected.count > 500)
        #expect(expected.contains { Self.isVLANTagged($0) }, "the replay must include tagged frames")

        let network = try VethNamespaces()
        defer { network.tearDown() }
        let sources = try network.inCaptureNamespace {
            try AFPacketSource.openFanoutGroup(interface: network.captureInterface, count: 2, configuration: Self.smallRings)
        }
        #expect(sources[0].fanoutGroup == sources[1].fanoutGroup)
        #expect(try network.replay(Self.traces) == expected.count)
        let received = try Self.drain(sources)

        // Exactly once, byte for byte (stripped VLAN tags written back): the multisets agree.
        #expect(received.map(\.count).reduce(0, +) == expected.count)
        #expect(Self.multiset(received.flatMap { $0 }) == Self.multiset(expected))

        // Symmetric fanout: every TCP/UDP flow landed on one socket, and many were seen both ways.
        var socketsOfFlow: [FlowKey: Set<Int>] = [:]
        var directionsOfFlow: [FlowKey: Set<Bool>] = [:]
        for (socket, frames) in received.enumerated() {
            for frame in frames {
                guard let (key, forward) = FlowKey.parse(frame) else { continue }
                socketsOfFlow[key, default: []].insert(socket)
                directionsOfFlow[key, default: []].insert(forward)
            }
        }
        let split = socketsOfFlow.filter { $0.value.count > 1 }
        #expect(split.isEmpty, "flows split across sockets: \(split.keys)")
        let bidirectional = directionsOfFlow.values.filter { $0.count == 2 }.count
        #expect(bidirectional >= 10)
        #expect(received.allSatisfy { !$0.isEmpty }, "the hash spread flows over both sockets")

        // Kernel statistics agree with what was read, per socket; nothing was dropped.
        for (index, source) in sources.enumerated() {
            let stats = try source.statistics()
            #expect(stats.packets == UInt64(received[index].count))
            #expect(stats.delivered == UInt64(received[index].count))
            #expect(stats.drops == 0)
            #expect(stats.freezes == 0)
        }
    }

    @Test(
        "the capture filter runs in the kernel: filtered frames never reach the ring or its counters",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"))
    func filterDropsInKernel() throws {
        // Untagged traces only: the kernel's filter sees frames with the outer tag removed, libpcap's
        // file filter (the reference here) sees it in place.
        let traces = [0, 1, 4, 5].map { Self.traces[$0] }
        let filter = "tcp port 80"
        let all = try Self.frames(in: traces, filter: nil)
        let expected = try Self.frames(in: traces, filter: filter)
        #expect(!expected.isEmpty && expected.count < all.count / 2)

        let network = try VethNamespaces()
        defer { network.tearDown() }
        var configuration = Self.smallRings
        configuration.filter = filter
        let sources = try network.inCaptureNamespace {
            try AFPacketSource.openFanoutGroup(interface: network.captureInterface, count: 2, configuration: configuration)
        }
        #expect(try network.replay(traces) == all.count)
        let received = try Self.drain(sources)

        #expect(Self.multiset(received.flatMap { $0 }) == Self.multiset(expected))
        var counted: UInt64 = 0
        for source in sources {
            let stats = try source.statistics()
            counted += stats.packets
            #expect(stats.drops == 0)
        }
        #expect(counted == UInt64(expected.count), "tp_packets counts only frames that passed the filter")
    }

    @Test(
        "eBPF fanout: the program's return value picks the socket for every packet",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"))
    func ebpfFanout() throws {
        let expected = try Self.frames(in: Self.traces, filter: nil)
        let program = CPeregrineTestBPF_loadLengthParityProgram()
        try #require(program >= 0, "bpf(BPF_PROG_LOAD) failed: errno \(errno)")
        defer { close(program) }

        let network = try VethNamespaces()
        defer { network.tearDown() }
        var configuration = Self.smallRings
        configuration.fanoutMode = .ebpf
        configuration.fanoutProgramDescriptor = program
        let sources = try network.inCaptureNamespace {
            try AFPacketSource.openFanoutGroup(interface: network.captureInterface, count: 2, configuration: configuration)
        }
        #expect(try network.replay(Self.traces) == expected.count)
        let received = try Self.drain(sources)

        #expect(Self.multiset(received.flatMap { $0 }) == Self.multiset(expected))
        #expect(received.allSatisfy { !$0.isEmpty })
        for (socket, frames) in received.enumerated() {
            // The network-layer length: the frame minus its Ethernet header and the outer tag, which the
            // kernel had stripped when the program ran (an inner Q-in-Q tag stays in the packet).
            let misplaced = frames.filter { ($0.count - 14 - (Self.isVLANTagged($0) ? 4 : 0)) % 2 != socket }
            #expect(misplaced.isEmpty, "socket \(socket) got \(misplaced.count) frames of the other parity")
        }
    }

    @Test(
        "a ring too small for the replay counts its losses: packets = delivered + drops, with freezes",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"))
    func dropsAreCounted() throws {
        let expected = try Self.frames(in: Self.traces, filter: nil)
        let network = try VethNamespaces()
        defer { network.tearDown() }
        var configuration = AFPacketConfiguration()
        configuration.blockSize = 64 << 10
        configuration.blockCount = 2
        let source = try network.inCaptureNamespace {
            try AFPacketSource(interface: network.captureInterface, configuration: configuration)
        }
        #expect(try network.replay(Self.traces) == expected.count)
        let delivered = try Self.drain([source])[0].count
        let stats = try source.statistics()
        #expect(stats.packets == UInt64(expected.count))
        #expect(stats.drops > 0)
        #expect(stats.delivered == UInt64(delivered))
        #expect(stats.delivered + stats.drops == stats.packets)
        #expect(stats.freezes > 0)
    }

    @Test(
        "an interface going down is counted, and capture resumes in the group when it comes back up",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"))
    func interfaceDownAndUp() throws {
        let trace = [Self.traces[2]]  // q-in-q.pcap, 5 frames
        let expected = try Self.frames(in: trace, filter: nil)
        let network = try VethNamespaces()
        defer { network.tearDown() }
        let sources = try network.inCaptureNamespace {
            try AFPacketSource.openFanoutGroup(interface: network.captureInterface, count: 2, configuration: Self.smallRings)
        }
        try network.replay(trace)
        #expect(try Self.drain(sources).map(\.count).reduce(0, +) == expected.count)

        try VethNamespaces.run("ip", "-n", network.captureNamespace, "link", "set", network.captureInterface, "down")
        #expect(try Self.drain(sources).allSatisfy(\.isEmpty))
        #expect(try sources.map { try $0.statistics().interfaceDownEvents } == [1, 1])

        try VethNamespaces.run("ip", "-n", network.captureNamespace, "link", "set", network.captureInterface, "up")
        try network.replay(trace)
        let again = try Self.drain(sources)
        #expect(Self.multiset(again.flatMap { $0 }) == Self.multiset(expected), "each frame once after the link returned")
        #expect(try sources.map { try $0.statistics().interfaceDownEvents } == [1, 1])
    }

    @Test("a closed socket leaves the group: a new group on the same interface opens cleanly",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"))
    func reopen() throws {
        let network = try VethNamespaces()
        defer { network.tearDown() }
        try network.inCaptureNamespace {
            var configuration = Self.smallRings
            configuration.blockCount = 1
            _ = try AFPacketSource.openFanoutGroup(interface: network.captureInterface, count: 2, configuration: configuration)
            configuration.fanoutMode = .loadBalance
            let again = try AFPacketSource(interface: network.captureInterface, configuration: configuration)
            #expect(try again.withBatch(timeoutMilliseconds: 1) { _ in } == 0)
        }
    }

    @Test("an unknown interface fails naming if_nametoindex and the name")
    func unknownInterface() {
        #expect(throws: AFPacketError.system(.syscall(call: "if_nametoindex", errno: ENODEV, interface: "nosuch0"))) {
            try AFPacketSource(interface: "nosuch0", configuration: AFPacketConfiguration())
        }
    }

    @Test("configuration values the kernel would refuse are named before any call")
    func invalidConfiguration() {
        var configuration = AFPacketConfiguration()
        configuration.blockSize = 1000
        #expect(throws: AFPacketError.self) { try AFPacketSource(interface: "lo", configuration: configuration) }
        configuration = AFPacketConfiguration()
        configuration.frameSize = 40
        #expect(throws: AFPacketError.self) { try AFPacketSource(interface: "lo", configuration: configuration) }
        configuration = AFPacketConfiguration()
        configuration.fanoutMode = .ebpf
        #expect(
            throws: AFPacketError.invalidConfiguration(
                "eBPF fanout needs the descriptor of a loaded socket-filter program")
        ) { try AFPacketSource(interface: "lo", configuration: configuration) }
    }

    @Test("defaults: 128 MiB per worker in 1 MiB blocks, symmetric hash fanout, defragmenting, promiscuous")
    func defaults() {
        let configuration = AFPacketConfiguration()
        #expect(configuration.blockSize * configuration.blockCount == 128 << 20)
        #expect(configuration.blockSize == 1 << 20)
        #expect(configuration.fanoutMode == .hash)
        #expect(configuration.defragment && configuration.promiscuous)
    }

    // MARK: - Helpers

    /// Every frame of `traces` (in order) that passes `filter`, read with libpcap.
    static func frames(in traces: [String], filter: String?) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for trace in traces {
            try PcapFileSource(path: trace, filter: filter).forEachFrame { frames.append(Array($0.bytes)) }
        }
        return frames
    }

    /// Reads both sockets until neither has had a block for 10 rounds (≥ 200 ms, 20 block timeouts).
    static func drain(_ sources: [AFPacketSource]) throws -> [[[UInt8]]] {
        var received = [[[UInt8]]](repeating: [], count: sources.count)
        var quietRounds = 0
        while quietRounds < 10 {
            var delivered = 0
            for (index, source) in sources.enumerated() {
                delivered += try source.withBatch(timeoutMilliseconds: 20) { batch in
                    for frame in batch {
                        #expect(frame.linkType == 1)
                        #expect(frame.wireLength == frame.bytes.count)
                        #expect(frame.timestamp.nanoseconds > 0)
                        received[index].append(Array(frame.bytes))
                    }
                }
            }
            quietRounds = delivered == 0 ? quietRounds + 1 : 0
        }
        return received
    }

    static func multiset(_ frames: [[UInt8]]) -> [[UInt8]: Int] {
        frames.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    static func isVLANTagged(_ frame: [UInt8]) -> Bool {
        frame.count >= 14 && ((frame[12] == 0x81 && frame[13] == 0x00) || (frame[12] == 0x88 && frame[13] == 0xa8))
    }
}

/// A TCP/UDP flow with its endpoints in a fixed order, parsed from Ethernet (up to two VLAN tags), IPv4
/// (unfragmented) or IPv6 (no extension headers): enough to check where the fanout sent each direction.
struct FlowKey: Hashable, CustomStringConvertible {
    let proto: UInt8
    let low: [UInt8]
    let high: [UInt8]

    var description: String { "proto \(proto) \(low) \(high)" }

    /// The key and whether the frame goes from `low` to `high`.
    static func parse(_ frame: [UInt8]) -> (FlowKey, Bool)? {
        var offset = 12
        var type = UInt16(frame[offset]) << 8 | UInt16(frame[offset + 1])
        var tags = 0
        while type == 0x8100 || type == 0x88a8, tags < 2, frame.count >= offset + 6 {
            offset += 4
            tags += 1
            type = UInt16(frame[offset]) << 8 | UInt16(frame[offset + 1])
        }
        let ip = offset + 2
        let proto: UInt8
        let source: ArraySlice<UInt8>
        let destination: ArraySlice<UInt8>
        let transport: Int
        if type == 0x0800, frame.count >= ip + 20 {
            let fragment = (UInt16(frame[ip + 6]) << 8 | UInt16(frame[ip + 7])) & 0x3fff
            guard fragment == 0 else { return nil }
            proto = frame[ip + 9]
            source = frame[(ip + 12)..<(ip + 16)]
            destination = frame[(ip + 16)..<(ip + 20)]
            transport = ip + Int(frame[ip] & 0x0f) * 4
        } else if type == 0x86dd, frame.count >= ip + 40 {
            proto = frame[ip + 6]
            source = frame[(ip + 8)..<(ip + 24)]
            destination = frame[(ip + 24)..<(ip + 40)]
            transport = ip + 40
        } else {
            return nil
        }
        guard proto == 6 || proto == 17, frame.count >= transport + 4 else { return nil }
        let a = Array(source) + frame[transport..<(transport + 2)]
        let b = Array(destination) + frame[(transport + 2)..<(transport + 4)]
        let forward = a.lexicographicallyPrecedes(b)
        return (FlowKey(proto: proto, low: forward ? a : b, high: forward ? b : a), forward)
    }
}
