// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import PeregrineAnalyzers

@Suite struct ProtocolDetectorTests {
    func deliver(_ d: ProtocolDetector, _ slot: UInt32, _ text: String, orig: Bool) -> ProtocolDetector.Verdict {
        Array(text.utf8).withUnsafeBytes { d.deliver(slot, data: $0, isOriginator: orig) }
    }

    func replayed(_ d: ProtocolDetector, _ slot: UInt32) -> [String] {
        var out: [String] = []
        d.replay(slot) { chunk, orig in out.append((orig ? ">" : "<") + String(decoding: chunk, as: UTF8.self)) }
        return out
    }

    @Test func httpStartsOnTheReplyAndTheBufferReplaysInArrivalOrder() throws {
        let d = ProtocolDetector(capacity: 2)
        let slot = try #require(d.attach())
        #expect(deliver(d, slot, "GE", orig: true) == .undecided)
        #expect(deliver(d, slot, "T / HTTP/1.1\r\n", orig: true) == .undecided)
        #expect(deliver(d, slot, "Host: x\r\n\r\n", orig: true) == .undecided)
        #expect(deliver(d, slot, "HTTP/1.1 200 OK\r\n", orig: false) == .activate(.http))
        // The chunk that decided is not buffered: the caller delivers it after the replay.
        #expect(replayed(d, slot) == [">GE", ">T / HTTP/1.1\r\n", ">Host: x\r\n\r\n"])
        #expect(d.activations == 1)
    }

    @Test func aReplyWithoutAnHTTPRequestEnablesNothing() throws {
        let d = ProtocolDetector(capacity: 1)
        let slot = try #require(d.attach())
        // The client spoke something no signature knows: nothing can be enabled any more.
        #expect(deliver(d, slot, "PING x\r\n", orig: true) == .exhausted)
        let other = ProtocolDetector(capacity: 1)
        let s2 = try #require(other.attach())
        #expect(deliver(other, s2, "HTTP/1.1 200 OK\r\n", orig: false) == .undecided)
        #expect(deliver(other, s2, "PUT / HTTP/1.1\r\n", orig: true) == .exhausted)
        #expect(other.exhausted == 1)
    }

    @Test func sshBannersOnBothSidesEnableSSH() throws {
        let d = ProtocolDetector(capacity: 1)
        let slot = try #require(d.attach())
        #expect(deliver(d, slot, "SSH-2.0-OpenSSH_9.2\r\n", orig: true) == .undecided)
        #expect(deliver(d, slot, "SSH-2.0-dropbear\r\n", orig: false) == .activate(.ssh))
    }

    @Test func theRequestMayArriveAfterTheReply() throws {
        let d = ProtocolDetector(capacity: 1)
        let slot = try #require(d.attach())
        #expect(deliver(d, slot, "HTTP/1.0 200 OK\r\n", orig: false) == .undecided)
        #expect(deliver(d, slot, "POST /x HTTP/1.0\r\n", orig: true) == .activate(.http))
        #expect(replayed(d, slot) == ["<HTTP/1.0 200 OK\r\n"])
    }

    @Test func probingStopsOnceTheBufferIsFull() throws {
        let d = ProtocolDetector(capacity: 1)
        let slot = try #require(d.attach())
        let spaces = String(repeating: " ", count: ProtocolDetector.bufferSize)
        #expect(deliver(d, slot, spaces, orig: true) == .undecided)
        // One byte more does not fit: still matched (and a request would be), but nothing enables.
        #expect(deliver(d, slot, "G", orig: true) == .exhausted)
    }

    @Test func tooManyChunksEndProbing() throws {
        let d = ProtocolDetector(capacity: 1)
        let slot = try #require(d.attach())
        for _ in 0..<ProtocolDetector.maxChunks { #expect(deliver(d, slot, " ", orig: true) == .undecided) }
        #expect(deliver(d, slot, " ", orig: true) == .exhausted)
    }

    @Test func aFullPoolIsCountedAndASlotIsReusableAfterDetach() throws {
        let d = ProtocolDetector(capacity: 1)
        let slot = try #require(d.attach())
        #expect(deliver(d, slot, "GET", orig: true) == .undecided)
        #expect(d.attach() == nil && d.full == 1)
        d.detach(slot)
        let again = try #require(d.attach())
        #expect(replayed(d, again).isEmpty)
        #expect(deliver(d, again, "HTTP/1.1 200", orig: false) == .undecided)
    }
}
