// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import Testing

/// `--workers N` must write the logs of the one-worker run: the same rows in every log, in another
/// order, with other uids (each worker has its own uid generator).
@Suite struct ParallelRunTests {
    static let shared = TraceTests.root.deletingLastPathComponent().appendingPathComponent("shared").path

    /// Every log's rows with uids masked, sorted; `#open`/`#close` lines left out.
    func run(_ trace: String, workers: Int) throws -> [String: [String]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-par-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = Configuration()
        config.logDirectory = dir.path
        config.seed = 1
        config.workers = workers
        let summary = try OfflineRun(configuration: config).run(path: trace)
        #expect(summary.readError == nil)
        let uid = try Regex("[CF][A-Za-z0-9]{10,17}")
        // A uid (or a set of them) is a whole cell or a comma-separated element of one.
        func mask(_ row: Substring) -> String {
            row.split(separator: "\t", omittingEmptySubsequences: false).map { cell in
                cell.split(separator: ",", omittingEmptySubsequences: false)
                    .map { (try? uid.wholeMatch(in: $0)) != nil ? "UID" : String($0) }.joined(separator: ",")
            }.joined(separator: "\t")
        }
        var logs: [String: [String]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".log") {
            let text = try String(contentsOfFile: dir.appendingPathComponent(file).path, encoding: .utf8)
            logs[file] = text.split(separator: "\n").filter { !$0.hasPrefix("#open") && !$0.hasPrefix("#close") }
                .map(mask).sorted()
        }
        return logs
    }

    /// x509.log is compared by certificate: de-duplication is per worker (see the loop).
    /// Not teredo.pcap: there an inner ICMPv6 echo goes out through the Teredo server and comes
    /// back through a relay, two outer address pairs, so the two directions reach different
    /// workers (FrameDispatch's documented limit) and conn.log has two one-sided rows.
    @Test(arguments: [
        "corpus/zeek/gre-sample/gre-sample.pcap", "corpus/zeek/gtp-different-ports-frag/gtp-different-ports-frag.pcap",
        "corpus/zeek/http-pipelining/http-pipelining.pcap", "corpus/zeek/qinq-vlan-logging/qinq-vlan-logging.pcap",
        "corpus/zeek/vxlan/vxlan.pcap", "corpus/zeek/dns-notify/dns-notify.pcap",
        "bench/real-mix.pcap",
    ])
    func twoWorkersWriteTheOneWorkerLogs(_ relative: String) throws {
        let directory = Self.shared + "/" + relative.split(separator: "/").dropLast().joined(separator: "/")
        guard let trace = try? FileManager.default.contentsOfDirectory(atPath: directory)
            .first(where: { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") || $0.hasSuffix(".trace") })
        else {
            print("skipped: \(directory) not found")
            return
        }
        let path = directory + "/" + trace
        let one = try run(path, workers: 1)
        let two = try run(path, workers: 2)
        #expect(Set(one.keys) == Set(two.keys))
        #expect(!one.isEmpty)
        for (file, rows) in one {
            let other = two[file] ?? []
            if file == "x509.log" {
                // Certificate de-duplication (log each certificate once a day) is per worker: a
                // certificate both workers see is logged by each. Same certificates, by fingerprint.
                func fingerprints(_ rows: [String]) -> Set<Substring> {
                    Set(rows.filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t")[1] })
                }
                #expect(!fingerprints(rows).isEmpty && fingerprints(rows) == fingerprints(other))
                continue
            }
            #expect(rows.count == other.count, "\(file): \(rows.count) rows with 1 worker, \(other.count) with 2")
            let missing = Set(rows).subtracting(other), extra = Set(other).subtracting(rows)
            #expect(missing.isEmpty && extra.isEmpty, "\(file): only 1 worker: \(missing.prefix(3)); only 2: \(extra.prefix(3))")
        }
    }
}
