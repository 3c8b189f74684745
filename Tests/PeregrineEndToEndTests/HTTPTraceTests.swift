// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import Testing

/// http.log, files.log and the HTTP analyzer against Zeek's baselines.
@Suite struct HTTPTraceTests {
    /// Data rows of a Zeek baseline log.
    func baseline(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Runs a corpus case as Zeek was run for it (`-C` when its CASE.txt says so).
    func runCase(_ name: String) throws -> (logs: [String: [[String]]], dir: String)? {
        let dir = TraceTests.corpus + "/" + name
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir),
            let trace = files.first(where: { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") })
        else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return nil
        }
        let caseText = try String(contentsOfFile: dir + "/CASE.txt", encoding: .utf8)
        let noChecksums = caseText.contains(" -C ")
        let logs = try TraceTests().run(dir + "/" + trace) { $0.ignoreChecksums = noChecksums }
        return (logs, dir)
    }

    /// A row without `ts` and `uid`, with fuid cells reduced to their count (fuids are random
    /// per run; the corpus score pairs them through files.log).
    func comparable(_ row: [String]) -> String {
        var cells = Array(row.dropFirst(2))
        for i in [22, 25] where i < cells.count {
            cells[i] = cells[i] == "-" ? "-" : "\(cells[i].split(separator: ",").count) fuid(s)"
        }
        return cells.joined(separator: "\t")
    }

    @Test(arguments: [
        "http-pipelining", "conn-wikipedia", "teredo", "http-multipart-post", "http-non-printable-json",
        "gtp-different-ports-frag", "http-concurrent-range",
    ])
    func httpLogMatchesZeek(_ name: String) throws {
        guard let (logs, dir) = try runCase(name) else { return }
        let ours = try #require(logs["http"]).map(comparable)
        let zeek = try baseline(dir + "/http.log").map(comparable)
        #expect(ours.sorted() == zeek.sorted())
    }

    @Test func rangeRequestsOverThreeConnectionsShareOneTimedOutFile() throws {
        guard let (logs, dir) = try runCase("http-concurrent-range") else { return }
        let ours = try #require(logs["files"])
        let zeek = try baseline(dir + "/files.log")
        #expect(Set(ours.map { $0[1] }).count == 1)
        #expect(Set(ours.map { $0[2] }).count == 3)
        // Zeek's bare-mode files.log stops at parent_fuid; ours has the default hash and
        // extract columns after it.
        let shape = { (row: [String]) in Array(row[3..<21]).joined(separator: "\t") }
        #expect(ours.map(shape).sorted() == zeek.map(shape).sorted())
        let http = try #require(logs["http"])
        #expect(Set(http.map { $0[27] }) == Set(ours.map { $0[1] }))
    }

    @Test func connectionsConfirmedAsHTTPGetTheService() throws {
        guard let (logs, _) = try runCase("http-pipelining") else { return }
        let conn = try #require(logs["conn"])
        #expect(conn.filter { $0[5] == "80" }.allSatisfy { $0[7] == "http" })
    }
}
