// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import Testing

@testable import PeregrineSessions

/// A shunted connection, whose middle the state machine never sees, ends with the bytes, the
/// history and the missed bytes of the same connection seen whole.
@Suite struct TCPSessionStateShuntTests {
    /// Handshake, 10 bytes each way and an ACK, then (`middle`) 3 MB from the originator in 1,000-byte segments
    /// acked by the responder, one retransmission and a zero window from the responder, then both FINs.
    func run(shunted: Bool) -> Conn {
        var c = Conn()
        c.pkt(true, .syn, seq: 0xFFFF_0000)
        c.pkt(false, [.syn, .ack], seq: 500, ack: 0xFFFF_0001)
        c.pkt(true, .ack, seq: 0xFFFF_0001, ack: 501)
        c.pkt(true, [.ack, .psh], seq: 0xFFFF_0001, ack: 501, len: 10)
        c.pkt(false, [.ack, .psh], seq: 501, ack: 0xFFFF_000B, len: 10)
        c.pkt(false, .ack, seq: 511, ack: 0xFFFF_000B)  // the responder's first pure ACK (`a`)
        let start = 0xFFFF_000B as UInt32
        let mark = c.tcp.shuntMark
        if shunted { c.tcp.beginShunt() }
        var retransmissions: UInt64 = 0, zeroWindows: UInt64 = 0
        for i in 0..<3000 {
            let seq = start &+ UInt32(i * 1000)
            if !shunted {
                c.pkt(true, .ack, seq: seq, ack: 511, len: 1000)
                if i == 7 { c.pkt(true, .ack, seq: seq, ack: 511, len: 1000) }  // retransmitted
                c.pkt(false, .ack, seq: 511, ack: seq &+ 1000, win: i == 9 ? 0 : 1000)
            } else {
                if i == 7 { retransmissions += 1 }
                if i == 9 { zeroWindows += 1 }
            }
        }
        let end = start &+ 3_000_000
        if shunted {
            // What the kernel measured: the originator's numbers moved 3 MB, the responder's ACKs too.
            c.tcp.endShunt(
                mark: mark, originatorSequence: 3_000_000, originatorAcknowledged: 3_000_000, responderSequence: 0,
                responderAcknowledged: 0)
            c.tcp.addShuntedHistory(
                originatorRetransmissions: retransmissions, responderRetransmissions: 0, originatorZeroWindows: 0,
                responderZeroWindows: zeroWindows, history: &c.history)
        }
        c.pkt(true, [.fin, .ack], seq: end, ack: 511)
        c.pkt(false, [.fin, .ack], seq: 511, ack: end &+ 1)
        c.pkt(true, .ack, seq: end &+ 1, ack: 512)
        return c
    }

    @Test func shuntedConnectionEndsAsTheWholeOne() {
        let whole = run(shunted: false), shunted = run(shunted: true)
        #expect(whole.tcp.originatorBytes == 3_000_010 && whole.tcp.responderBytes == 10)
        #expect(shunted.tcp.originatorBytes == whole.tcp.originatorBytes)
        #expect(shunted.tcp.responderBytes == whole.tcp.responderBytes)
        #expect(shunted.tcp.missedBytes == 0 && whole.tcp.missedBytes == 0)
        #expect(whole.history.string == "ShADdaTwFf")
        #expect(shunted.history.string == whole.history.string)
        #expect(shunted.state == "SF")
    }

    /// Without the kernel's counts (a shunt whose entry was lost), the skipped span is still no
    /// content gap: the FIN's sequence number gives the bytes.
    @Test func noGapForTheSkippedSpan() {
        var c = Conn()
        c.pkt(true, .syn, seq: 0)
        c.pkt(false, [.syn, .ack], seq: 100, ack: 1)
        c.pkt(true, .ack, seq: 1, ack: 101)
        c.tcp.beginShunt()
        c.pkt(false, .ack, seq: 101, ack: 50_001)
        c.pkt(true, [.fin, .ack], seq: 50_001, ack: 101)
        #expect(c.tcp.missedBytes == 0)
        #expect(!c.history.string.contains("G"))
        #expect(c.tcp.originatorBytes == 50_000)
    }
}
