// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineTestSupport
import Testing

/// The bench trace (44,906 frames, 1,792 flows, real client/server traffic) replayed at tcpreplay's top
/// speed while two worker threads read their fanout sockets, as a live run does.
@Suite("AFPacketSource concurrent replay")
struct AFPacketConcurrentReplayTests {
    static let benchTrace = PcapTestFiles.packageRoot.appendingPathComponent("../shared/bench/real-mix.pcap").standardized.path

    /// One worker: reads its source on its own thread until told to stop and then quiet for 10 polls.
    final class Reader: @unchecked Sendable {
        let source: AFPacketSource
        let stop = NSCondition()
        var stopRequested = false
        var frameHashes: [Int] = []
        var flowKeys: [FlowKey] = []
        var failure: (any Error)?
        let done = DispatchSemaphore(value: 0)

        init(source: AFPacketSource) { self.source = source }

        func run() {
            defer { done.signal() }
            var quiet = 0
            do {
                while quiet < 10 {
                    let count = try source.withBatch(timeoutMilliseconds: 20) { batch in
                        for frame in batch {
                            var hasher = Hasher()
                            hasher.combine(bytes: frame.bytes)
                            frameHashes.append(hasher.finalize())
                            if let (key, _) = FlowKey.parse(Array(frame.bytes.prefix(80))) { flowKeys.append(key) }
                        }
                    }
                    if count > 0 {
                        quiet = 0
                    } else if stop.withLock({ stopRequested }) {
                        quiet += 1
                    }
                }
            } catch {
                failure = error
            }
        }
    }

    @Test(
        "two threads reading a fanout group get all 44,906 frames of a top-speed replay once, flows unsplit",
        .enabled(if: VethNamespaces.skipReason == nil, "\(VethNamespaces.skipReason ?? "")"),
        .enabled(if: FileManager.default.fileExists(atPath: benchTrace), "needs ../shared/bench/real-mix.pcap"))
    func topSpeedReplay() throws {
        var expected: [Int: Int] = [:]
        try PcapFileSource(path: Self.benchTrace).forEachFrame { frame in
            var hasher = Hasher()
            hasher.combine(bytes: frame.bytes)
            expected[hasher.finalize(), default: 0] += 1
        }
        let total = expected.values.reduce(0, +)

        let network = try VethNamespaces()
        defer { network.tearDown() }
        // 64 MiB per socket holds the whole trace, so a worker starved by the busy 2-core box
        // delays reading but cannot lose frames; the drop counter is checked anyway.
        var configuration = AFPacketConfiguration()
        configuration.blockCount = 64
        let sources = try network.inCaptureNamespace {
            try AFPacketSource.openFanoutGroup(interface: network.captureInterface, count: 2, configuration: configuration)
        }
        let readers = sources.map(Reader.init)
        for reader in readers { Thread.detachNewThread { reader.run() } }

        let output = try network.replayReportingRate([Self.benchTrace])
        for reader in readers { reader.stop.withLock { reader.stopRequested = true } }
        for reader in readers { reader.done.wait() }
        for reader in readers { if let failure = reader.failure { throw failure } }

        let received = readers.flatMap(\.frameHashes)
        #expect(received.count == total)
        #expect(received.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 } == expected)
        let socketOfFlow = readers.enumerated().reduce(into: [FlowKey: Set<Int>]()) { map, entry in
            for key in entry.element.flowKeys { map[key, default: []].insert(entry.offset) }
        }
        #expect(socketOfFlow.count > 1000)
        #expect(socketOfFlow.values.allSatisfy { $0.count == 1 }, "a flow was split across sockets")
        for (reader, source) in zip(readers, sources) {
            let stats = try source.statistics()
            #expect(stats.packets == UInt64(reader.frameHashes.count))
            #expect(stats.drops == 0)
        }
        print(
            "AFPacket replay: \(received.count) frames, per socket \(readers.map(\.frameHashes.count)), "
                + "0 dropped; tcpreplay: \(output)")
    }
}
