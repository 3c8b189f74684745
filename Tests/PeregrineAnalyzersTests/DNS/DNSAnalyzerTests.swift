// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineSessions
import Testing

@testable import PeregrineAnalyzers

@Suite struct DNSAnalyzerTests {
    static let query: [UInt8] = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,  // RD, 1 question
        3, 0x77, 0x77, 0x77, 0, 0, 1, 0, 1,  // "www" A IN
    ]
    static var reply: [UInt8] {
        var r = query
        r[2] = 0x81
        r[3] = 0x80
        return r
    }

    func deliver(_ a: DNSAnalyzer, _ slot: UInt32, _ bytes: [UInt8], orig: Bool, multicast: Bool = false)
        -> DNSAnalyzer.Delivery
    {
        var m = DNSMessage()
        var w = WeirdQueue()
        return bytes.withUnsafeBytes {
            a.deliver(slot, payload: $0, isOriginator: orig, responderIsMulticast: multicast, netBIOS: false,
                      summarize: true, message: &m, weirds: &w)
        }
    }

    @Test func confirmsAndFlipsAFirstReplyFromTheOriginator() throws {
        let a = DNSAnalyzer(capacity: 2)
        let slot = try #require(a.attach(at: .zero))
        let first = deliver(a, slot, Self.reply, orig: true)
        #expect(first.flipRoles && first.confirmed && first.hasMessage)
        // Only the first message can flip.
        #expect(!deliver(a, slot, Self.reply, orig: true).flipRoles)
        let other = try #require(a.attach(at: .zero))
        #expect(!deliver(a, other, Self.reply, orig: true, multicast: true).flipRoles)
    }

    @Test func poolIsBoundedAndCountsWhenFull() throws {
        let a = DNSAnalyzer(capacity: 1)
        let slot = try #require(a.attach(at: .zero))
        #expect(a.attach(at: .zero) == nil && a.full == 1)
        a.detach(slot)
        #expect(a.attach(at: .zero) != nil && a.inUse == 1)
    }

    @Test func aViolationDisablesTheAnalyzer() throws {
        let a = DNSAnalyzer(capacity: 1)
        let slot = try #require(a.attach(at: .zero))
        var bad = Self.query
        bad[5] = 200  // 200 questions
        #expect(deliver(a, slot, bad, orig: true).violation != nil)
        #expect(a.isDisabled(slot))
        #expect(!deliver(a, slot, Self.query, orig: true).hasMessage)
    }

    @Test func expiryTimerFollowsZeeksTicks() throws {
        let a = DNSAnalyzer(capacity: 1)
        let start = Timestamp(nanoseconds: 1_000_000_000_000)
        let slot = try #require(a.attach(at: start))
        func at(_ s: Double) -> Timestamp { start.adding(Interval(nanoseconds: Int64(s * 1e9))) }
        // Activity at +2 s: the tick at +10 s finds 8 s idle (< 9 s), so it re-arms for +20 s.
        #expect(!a.timerExpired(slot, lastActivity: at(2), now: at(10.5)))
        #expect(a.timerDue(slot) == at(20))
        // At +20 s the connection has been idle 18 s: it goes.
        #expect(a.timerExpired(slot, lastActivity: at(2), now: at(20)))
    }
}
