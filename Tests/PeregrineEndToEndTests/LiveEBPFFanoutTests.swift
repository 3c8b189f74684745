// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrineEngine
import PeregrineTestSupport
import Testing

/// `peregrine -i --fanout ebpf --workers N`: the real `bpf/peregrine_fanout.bpf.c` program spreads
/// replayed corpus traces over N workers. Each worker processes exactly the packets that
/// `SymmetricFlowHash % N` assigns to it (IPv4, IPv6, QinQ, PPPoE), so the kernel chose sockets by
/// the project's hash, which sends both directions of a flow to one worker; and the logs equal the
/// offline run's (a flow split across workers would show as two half connections).
@Suite struct LiveEBPFFanoutTests {
    static let seed: UInt64 = 7

    /// What one live run gave.
    struct Run {
        var sent = 0
        var summary: LiveRun.Summary?
        var error: String?
        /// stats.log's `pkts_proc` summed per `peer`.
        var processed: [String: Int] = [:]
    }

    /// Per worker index, the trace's packets that `SymmetricFlowHash % workers` sends there.
    func predictedPackets(_ trace: String, workers: Int) throws -> [Int] {
        var counts = [Int](repeating: 0, count: workers)
        _ = try PcapFileSource(path: trace).forEachFrame { frame in
            let hash = SymmetricFlowHash.hash(ethernetFrame: frame.bytes, seed: UInt32(truncatingIfNeeded: Self.seed))
            counts[Int(hash % UInt32(workers))] += 1
        }
        return counts
    }

    /// Replays `trace` into a veth captured with `--fanout ebpf --workers N misc/stats`, logs into `directory`.
    func liveRun(_ trace: String, workers: Int, into directory: String) throws -> Run {
        var config = Configuration()
        config.ignoreChecksums = true
        config.seed = Self.seed
        config.logDirectory = directory
        config.workers = workers
        config.ebpfFanout = true
        config.bpfDirectory = try BPFTestObjects.directory()
        try config.load(script: "misc/stats")
        let veth = try VethNamespaces()
        defer { veth.tearDown() }
        let capture = LiveRunTests.LiveCapture(veth: veth, configuration: config)
        Thread.sleep(forTimeInterval: 1)  // sockets bound and in their fanout group
        var run = Run()
        run.sent = try veth.replay([trace])
        Thread.sleep(forTimeInterval: 1)  // the last blocks retire (10 ms block timeout)
        (run.summary, run.error) = capture.finish()
        let stats = (try? String(contentsOfFile: directory + "/stats.log", encoding: .utf8)) ?? ""
        for line in stats.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            run.processed[String(fields[1]), default: 0] += Int(fields[3]) ?? 0
        }
        return run
    }

    @Test func ebpfFanoutGivesTheOfflineLogs() throws {
        guard let trace = LiveRunTests.liveTrace("conn-wikipedia/wikipedia.pcap") else { return }
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

        let run = try liveRun(trace, workers: 2, into: live)
        #expect(run.error == nil, "\(run.error ?? "")")
        let summary = try #require(run.summary)
        #expect(summary.packets == UInt64(run.sent) && summary.kernelDrops == 0)
        var expected = try helper.rows(offline), got = try helper.rows(live)
        got["stats.log"] = nil  // live only here
        expected["stats.log"] = nil
        #expect(!expected.isEmpty && Set(got.keys) == Set(expected.keys))
        for (file, lines) in expected {
            #expect(got[file] == lines, "\(file): \(lines.count) rows offline, \(got[file]?.count ?? 0) live")
        }
        let predicted = try predictedPackets(trace, workers: 2)
        print("eBPF fanout, wikipedia.pcap: \(run.sent) sent; Swift hash predicts \(predicted), workers got \(run.processed)")
        // A worker that processed nothing writes no stats.log line.
        #expect(predicted.indices.allSatisfy { run.processed["worker-\($0 + 1)", default: 0] == predicted[$0] })
    }

    /// Four workers, so that a trace of few flows cannot match the prediction by chance as easily.
    /// Traces that exercise IPv6, QinQ (the stack strips the outer tag before the program runs; the
    /// program skips the inner one) and PPPoE (not IP: the all-zero key).
    @Test(arguments: ["ftp-ipv6/ipv6.pcap", "qinq-vlan-logging/q-in-q.pcap", "pppoe-icmp6/pppoe.pcap"])
    func eachWorkerGetsThePacketsTheSwiftHashAssignsIt(trace name: String) throws {
        if let reason = VethNamespaces.skipReason {
            print("skipped: \(reason)")
            return
        }
        let trace = TraceTests.corpus + "/" + name
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: \(trace) not found")
            return
        }
        let live = try LiveRunTests().temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: live) }
        let run = try liveRun(trace, workers: 4, into: live)
        #expect(run.error == nil, "\(run.error ?? "")")
        let predicted = try predictedPackets(trace, workers: 4)
        print("eBPF fanout, \(name): \(run.sent) sent; Swift hash predicts \(predicted), workers got \(run.processed)")
        #expect(predicted.reduce(0, +) == run.sent)
        // A worker that processed nothing writes no stats.log line.
        #expect(predicted.indices.allSatisfy { run.processed["worker-\($0 + 1)", default: 0] == predicted[$0] })
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
