// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import Testing

@testable import PeregrineAnalyzers

@Suite struct ExpectedConnectionsTests {
    let client = IPAddress("10.0.0.1")!
    let server = IPAddress("10.0.0.2")!
    let t0 = Timestamp(nanoseconds: 1_000_000_000_000)

    @Test func matchesTheAnnouncedEndpointUntilItExpires() {
        var e = ExpectedConnections()
        e.expect(originator: client, responder: server, responderPort: 56666, kind: .ftpData, now: t0)
        #expect(e.analyzer(originator: client, responder: server, responderPort: 56666, now: t0) == .ftpData)
        // Other port, other originator: no match.
        #expect(e.analyzer(originator: client, responder: server, responderPort: 56667, now: t0) == nil)
        #expect(e.analyzer(originator: server, responder: client, responderPort: 56666, now: t0) == nil)
        // The entry serves again within its lifetime, not after.
        let later = t0.adding(.seconds(299))
        #expect(e.analyzer(originator: client, responder: server, responderPort: 56666, now: later) == .ftpData)
        let expired = t0.adding(ExpectedConnections.lifetime)
        #expect(e.analyzer(originator: client, responder: server, responderPort: 56666, now: expired) == nil)
    }

    @Test func fullTableEvictsTheEntryClosestToExpiry() {
        var e = ExpectedConnections()
        for i in 0..<ExpectedConnections.capacity {
            e.expect(
                originator: client, responder: server, responderPort: UInt16(1000 + i), kind: .ftpData,
                now: t0.adding(.seconds(Int64(i % 100))))
        }
        e.expect(originator: client, responder: server, responderPort: 9, kind: .ftpData, now: t0.adding(.seconds(100)))
        #expect(e.count == ExpectedConnections.capacity)
        #expect(e.evicted == 1)
        #expect(e.analyzer(originator: client, responder: server, responderPort: 1000, now: t0) == nil)
        #expect(e.analyzer(originator: client, responder: server, responderPort: 9, now: t0) == .ftpData)
    }
}
