// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import Testing

@testable import PeregrineAnalyzers

@Suite struct HTTPAnalyzerTests {
    func feed(_ a: HTTPAnalyzer, _ slot: UInt32, _ text: String, orig: Bool, _ r: inout EventRecorder)
        -> HTTPAnalyzer.Delivery
    {
        Array(text.utf8).withUnsafeBytes { a.deliver(slot, data: $0, isOriginator: orig, sink: &r) }
    }

    @Test func confirmsOnceAndCouplesHeadRequestsToTheirReplies() throws {
        let a = HTTPAnalyzer(capacity: 2)
        let slot = try #require(a.attach())
        var r = EventRecorder()
        let first = feed(a, slot, "HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n", orig: true, &r)
        #expect(first.confirmed)
        #expect(first.violation == nil)
        let reply = feed(a, slot, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
                         orig: false, &r)
        #expect(!reply.confirmed)
        // The reply to HEAD has no body although it announces one; the second reply's body is read.
        #expect(r.lines.filter { $0.hasPrefix("resp done") } == ["resp done 0", "resp done 3"])
        #expect(r.body == Array("abc".utf8))
    }

    @Test func aNonHTTPStreamIsAViolationAndTheAnalyzerGoesQuiet() throws {
        let a = HTTPAnalyzer(capacity: 1)
        let slot = try #require(a.attach())
        var r = EventRecorder()
        let d = feed(a, slot, "SSH-2.0-OpenSSH_9.6\r\n", orig: true, &r)
        #expect(d.violation?.nameString == "bad_HTTP_request")
        #expect(!d.confirmed)
        #expect(a.isDone(slot))
        _ = feed(a, slot, "HTTP/1.1 200 OK\r\n\r\n", orig: false, &r)
        #expect(r.lines.isEmpty)
    }

    @Test func thePoolIsBoundedAndSlotsAreReused() throws {
        let a = HTTPAnalyzer(capacity: 1)
        let slot = try #require(a.attach())
        #expect(a.attach() == nil)
        #expect(a.full == 1)
        a.detach(slot)
        #expect(a.attach() == slot)
        #expect(a.inUse == 1)
    }

    @Test func finishEndsAMessageReadUntilTheConnectionCloses() throws {
        let a = HTTPAnalyzer(capacity: 1)
        let slot = try #require(a.attach())
        var r = EventRecorder()
        _ = feed(a, slot, "GET / HTTP/1.0\r\n\r\n", orig: true, &r)
        _ = feed(a, slot, "HTTP/1.0 200 OK\r\n\r\n<html>", orig: false, &r)
        a.finish(slot, sink: &r)
        #expect(r.lines.last == "resp done 6")
    }
}
