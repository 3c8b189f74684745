// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// `peregrine -i --fanout ebpf --workers 2`: the real `bpf/peregrine_fanout.bpf.c` program spreads a
/// replayed corpus trace over two workers. The logs equal the offline run's (a flow split across
/// workers would show as two half connections), and each worker processed exactly the packets that
/// `SymmetricFlowHash % 2` assigns to it, so the kernel chose sockets by the project's hash, which
/// sends both directions of a flow to one worker.
@Suite struct LiveEBPFFanoutTests {
    static let seed: UInt64 = 7

    /// Per worker index, the trace's packets that `SymmetricFlowHash % workers` sends there.
    func expectedPackets(_ trace: String, workers: Int) throws -> [Int] {
        var counts = [Int](repeating: 0, count: workers)
        _ = try PcapFileSource(path: trace).forEachFrame { frame in
            let hash = SymmetricFlowHash.hash(ethernetFrame: frame.bytes, seed: UInt32(truncatingIfNeeded: Self.seed))
            counts[Int(hash % UInt32(workers))] += 1
        }
        return counts
    }

    @Test func ebpfFanoutGivesTheOfflineLogsAndTheSwiftHashSplit() throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        let trace = TraceTests.corpus + "/conn-wikipedia/wikipedia.pcap"
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let helper = LiveRunTests()
        let offline = try helper.temporaryDirectory(), live = try helper.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: offline)
            try? FileManager.default.removeItem(atPath: live)
        }
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = Self.seed
        config.logDirectory = offline
        _ = try OfflineRun(configuration: config).run(path: trace)

        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        config.logDirectory = live
        config.workers = 2
        config.ebpfFanout = true
        config.bpfDirectory = try BPFTestObjects.directory()
        try config.load(script: "misc/stats")
        let stop = StopFlag()
        let outcome = LiveRunTests.LiveOutcome()
        let liveConfig = config
        let capture = JoinableThread {
            do {
                outcome.summary = try veth.inCaptureNamespace {
                    try LiveRun(configuration: liveConfig).run(interfaces: [veth.captureInterface], stop: stop)
                }
            } catch {
                outcome.error = "\(error)"
            }
        }
        Thread.sleep(forTimeInterval: 1)  // sockets bound and in their fanout group
        let sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)  // the last blocks retire (10 ms block timeout)
        stop.stop()
        capture.join()
        #expect(outcome.error == nil, "\(outcome.error ?? "")")
        let summary = try #require(outcome.summary)
        #expect(summary.packets == UInt64(sent) && summary.kernelDrops == 0)

        // Logs: as offline (stats.log is live-only here).
        var expected = try helper.rows(offline), got = try helper.rows(live)
        got["stats.log"] = nil
        expected["stats.log"] = nil
        #expect(!expected.isEmpty && Set(got.keys) == Set(expected.keys))
        for (file, lines) in expected {
            #expect(got[file] == lines, "\(file): \(lines.count) rows offline, \(got[file]?.count ?? 0) live")
        }

        // Per worker: stats.log's pkts_proc summed over each peer's lines.
        let stats = try String(contentsOfFile: live + "/stats.log", encoding: .utf8)
        var processed: [String: Int] = [:]
        for line in stats.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            processed[String(fields[1]), default: 0] += Int(fields[3]) ?? 0
        }
        let predicted = try expectedPackets(trace, workers: 2)
        print("eBPF fanout: \(sent) packets sent; Swift hash predicts \(predicted), workers processed \(processed)")
        #expect(predicted.allSatisfy { $0 > 0 })
        #expect(processed["worker-1"] == predicted[0] && processed["worker-2"] == predicted[1])
    }

    @Test func aMissingProgramIsRefusedWithTheFix() {
        var config = Configuration()
        config.ebpfFanout = true
        config.bpfDirectory = "/nonexistent/bpf"
        #expect {
            _ = try LiveRun(configuration: config).run(interfaces: ["lo"], stop: StopFlag())
        } throws: { error in
            "\(error)".hasPrefix("--fanout ebpf: BPF object /nonexistent/bpf/peregrine_fanout.bpf.o not found")
        }
    }
}
