// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineEngine
import Testing

/// Content-based analyzer detection against Zeek's baselines.
@Suite struct DPDTraceTests {
    /// HTTP on an IRC port, picked up from a SYN-ACK (Zeek issue #2191): no port analyzer
    /// claims 6669, the roles flip on the first ACK, and the signatures find HTTP from the
    /// request and its reply; conn.log then says `http`.
    @Test func httpOnAnIRCPortIsFoundByContent() throws {
        let dir = TraceTests.corpus + "/tcp-flip-without-syn"
        let trace = dir + "/http-on-irc-port-missing-syn.pcapng"
        guard FileManager.default.fileExists(atPath: trace) else {
            print("skipped: corpus not found at \(TraceTests.corpus)")
            return
        }
        let logs = try TraceTests().run(trace)
        let ours = try #require(logs["conn"]).map { Array($0.dropFirst(2)) }
        let zeek = try String(contentsOfFile: dir + "/conn.log", encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .map { Array($0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init).dropFirst(2)) }
        #expect(ours == zeek)
        #expect(ours.first?[5] == "http")
    }

    /// Without content probing's reassembly there is no HTTP at all: the same trace with every
    /// analyzer off has no service, so the test above depends on detection, not on ports.
    @Test func withAnalyzersOffTheSameConnectionHasNoService() throws {
        let trace = TraceTests.corpus + "/tcp-flip-without-syn/http-on-irc-port-missing-syn.pcapng"
        guard FileManager.default.fileExists(atPath: trace) else { return }
        let logs = try TraceTests().run(trace) { $0.disableAllAnalyzers = true }
        #expect(try #require(logs["conn"]).first?[7] == "-")
    }
}
