// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import Testing

@testable import PeregrineSessions

/// Zeek's content-gap statistics (`get_gap_stats()`, capture_loss.log): an ACK event is an ACK
/// covering new data of an established connection, a gap event one that covers data never seen.
@Suite struct TCPGapStatisticsTests {
    func established() -> Conn {
        var c = Conn()
        c.pkt(true, .syn, seq: 100)
        c.pkt(false, [.syn, .ack], seq: 500, ack: 101)
        c.pkt(true, .ack, seq: 101, ack: 501)
        return c
    }

    @Test func handshakeACKsAreNotEvents() {
        var c = Conn()
        #expect(!c.pkt(true, .syn, seq: 100).ackEvent)
        #expect(!c.pkt(false, [.syn, .ack], seq: 500, ack: 101).ackEvent)
        #expect(!c.pkt(true, .ack, seq: 101, ack: 501).ackEvent)
    }

    @Test func anACKOfDataSeenIsAnACKEventWithoutGap() {
        var c = established()
        c.pkt(true, [.ack, .psh], seq: 101, ack: 501, len: 10)
        let r = c.pkt(false, .ack, seq: 501, ack: 111)
        #expect(r.ackEvent && !r.gapEvent)
        // The same ACK again covers nothing new.
        #expect(!c.pkt(false, .ack, seq: 501, ack: 111).ackEvent)
    }

    @Test func anACKAboveMissingDataIsAGapEvent() {
        var c = established()
        // Bytes 101..<111 never seen; 111..<121 arrive; the ACK covers both.
        c.pkt(true, [.ack, .psh], seq: 111, ack: 501, len: 10)
        let r = c.pkt(false, .ack, seq: 501, ack: 121)
        #expect(r.ackEvent && r.gapEvent)
        #expect(c.tcp.missedBytes == 10)
        // Later data and its ACK are whole again.
        c.pkt(true, [.ack, .psh], seq: 121, ack: 501, len: 10)
        let next = c.pkt(false, .ack, seq: 501, ack: 131)
        #expect(next.ackEvent && !next.gapEvent)
    }

    @Test func anACKOfDataNeverSentAtAllIsAGapEvent() {
        var c = established()
        let r = c.pkt(false, .ack, seq: 501, ack: 151)
        #expect(r.ackEvent && r.gapEvent)
    }

    @Test func aPartialConnectionIsNotCounted() {
        // No handshake seen: the endpoints are PARTIAL, not ESTABLISHED (`report_gaps_for_partial` is F).
        var c = Conn()
        c.pkt(true, [.ack, .psh], seq: 1000, ack: 5000, len: 10)
        let r = c.pkt(false, .ack, seq: 5000, ack: 1050)
        #expect(!r.ackEvent && !r.gapEvent)
    }
}
