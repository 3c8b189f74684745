// SPDX-License-Identifier: Apache-2.0
import PeregrineDecode
import Testing

@testable import PeregrineSessions

// The history letters that are not plain flags (zeek-logs.md §3, Zeek's TCPSessionAdapter.cc
// update_history/update_window/update_last_seq, TCP_Endpoint.cc and TCP_Reassembler::Gap), each
// built segment by segment. Originator ISN 100, responder ISN 500 as in TCPConnStateTests.

extension Conn {
    /// The three-way handshake (100 -> 500).
    mutating func handshake() {
        pkt(true, .syn, seq: 100)
        pkt(false, [.syn, .ack], seq: 500, ack: 101)
        pkt(true, .ack, seq: 101, ack: 501)
    }

    /// A segment whose transport checksum failed.
    mutating func badChecksum(_ orig: Bool, seq: UInt32) {
        _ = tcp.process(
            isOriginator: orig, flags: .ack, sequence: seq, acknowledgement: 0, payloadLength: 10, window: 1000,
            checksumValid: false, history: &history, weirds: &weirds)
    }
}

@Test func zeroWindowIsWAndScalesByTen() {
    var c = Conn()
    c.pkt(true, .syn, seq: 100)
    c.pkt(false, [.syn, .ack], seq: 500, ack: 101, win: 0)  // first zero window: `w`
    c.pkt(true, .ack, seq: 101, ack: 501)
    #expect(c.history.string == "ShwA")
    for _ in 2...9 { c.pkt(false, .ack, seq: 501, ack: 101, win: 0) }
    #expect(c.history.string == "ShwAa")  // 9 zero windows: still one letter
    c.pkt(false, .ack, seq: 501, ack: 101, win: 0)  // the 10th
    #expect(c.history.string == "ShwAaw")
    c.pkt(true, .ack, seq: 101, ack: 501, win: 0)
    #expect(c.history.string == "ShwAawW")
}

@Test func zeroWindowAfterPeerFINOrWithRSTIsNotW() {
    var c = Conn()
    c.handshake()
    c.pkt(true, [.fin, .ack], seq: 101, ack: 501)
    // The peer has closed: a zero window then means nothing (update_window).
    c.pkt(false, .ack, seq: 501, ack: 102, win: 0)
    #expect(c.history.string == "ShAFa")
    c.pkt(false, [.rst, .ack], seq: 501, ack: 102, win: 0)
    #expect(c.history.string == "ShAFar")
}

@Test func finRstIsIOncePerDirection() {
    var c = Conn()
    c.handshake()
    c.pkt(true, .ack, seq: 101, ack: 501, len: 10)
    c.pkt(true, [.fin, .rst, .ack], seq: 111, ack: 501)
    c.pkt(true, [.fin, .rst, .ack], seq: 112, ack: 501)
    c.pkt(false, [.fin, .rst, .ack], seq: 501, ack: 112)
    // No F or R letters: a packet with two of SYN/FIN/RST adds only I (FIN+RST) or Q.
    #expect(c.history.string == "ShADIi")
    #expect(c.state == "RSTR")
}

@Test func multiFlagIsQOncePerDirection() {
    var c = Conn()
    c.pkt(true, [.syn, .fin], seq: 100)
    c.pkt(true, [.syn, .fin], seq: 200)
    #expect(c.history.string == "Q")
    // SYN+FIN still moves the originator through SYN_SENT to CLOSED: "half open".
    #expect(c.state == "SH")
    c.pkt(false, [.syn, .rst], seq: 500)
    #expect(c.history.string == "Qq")
    #expect(c.weirds.contains("TCP_christmas"))
}

@Test func synRstAloneIsQAndOTH() {
    var c = Conn()
    c.pkt(true, [.syn, .rst], seq: 100)
    // RSTOS0 needs an `S` before the `R`; a lone Q is OTH.
    #expect(c.history.string == "Q")
    #expect(c.state == "OTH")
}

@Test func badChecksumIsCOrCScaledAndChangesNoState() {
    var c = Conn()
    c.pkt(true, .syn, seq: 100)
    c.badChecksum(false, seq: 500)
    #expect(c.history.string == "Sc")
    #expect(c.weirds.contains("bad_TCP_checksum"))
    for _ in 2...9 { c.badChecksum(false, seq: 500) }
    #expect(c.history.string == "Sc")
    c.badChecksum(false, seq: 500)  // the 10th
    #expect(c.history.string == "Scc")
    c.badChecksum(true, seq: 101)
    #expect(c.history.string == "SccC")
    // None of them counted as a reply or as data.
    #expect(c.state == "S0")
    #expect(c.tcp.originatorBytes == 0)
    #expect(c.tcp.responderBytes == 0)
}

@Test func responderGapIsLowerG() {
    var c = Conn()
    c.handshake()
    c.pkt(false, .ack, seq: 501, ack: 101, len: 100)
    // 601..<701 never seen; the originator acks 801.
    c.pkt(false, .ack, seq: 701, ack: 101, len: 100)
    c.pkt(true, .ack, seq: 101, ack: 801)
    #expect(c.history.string == "ShAdg")
    #expect(c.tcp.missedBytes == 100)
    #expect(c.tcp.responderBytes == 300)
}

@Test func gapsScaleByTen() {
    var c = Conn()
    c.handshake()
    // Ten holes of 10 bytes, each revealed by its own ack.
    var seq: UInt32 = 101
    for _ in 1...10 {
        c.pkt(true, .ack, seq: seq + 10, ack: 501, len: 10)
        seq += 20
        c.pkt(false, .ack, seq: 501, ack: seq)
    }
    #expect(c.tcp.missedBytes == 100)
    #expect(c.history.string == "ShADaGG")
}

@Test func gapRevealedByRSTIsNotCounted() {
    var c = Conn()
    c.handshake()
    c.pkt(true, .ack, seq: 101, ack: 501, len: 100)
    c.pkt(true, .ack, seq: 301, ack: 501, len: 100)  // 201..<301 missing
    c.pkt(false, [.rst, .ack], seq: 501, ack: 401)
    // The responder is no longer established when the ack arrives (TCP_Reassembler::Gap only
    // reports gaps between established endpoints).
    #expect(c.history.string == "ShADr")
    #expect(c.tcp.missedBytes == 0)
}

@Test func responderRetransmissionIsLowerT() {
    var c = Conn()
    c.handshake()
    c.pkt(false, .ack, seq: 501, ack: 101, len: 50)
    c.pkt(false, .ack, seq: 501, ack: 101, len: 50)
    #expect(c.history.string == "ShAdt")
    #expect(c.tcp.responderBytes == 50)
}

@Test func retransmissionsScaleByTenAndPureACKsAreNotRetransmissions() {
    var c = Conn()
    c.handshake()
    for _ in 1...5 { c.pkt(true, .ack, seq: 101, ack: 501) }
    #expect(c.history.string == "ShA")
    c.pkt(true, .ack, seq: 101, ack: 501, len: 20)
    for _ in 1...9 { c.pkt(true, .ack, seq: 101, ack: 501, len: 20) }
    #expect(c.history.string == "ShADT")
    c.pkt(true, .ack, seq: 101, ack: 501, len: 20)  // the 10th retransmission
    #expect(c.history.string == "ShADTT")
    #expect(c.tcp.originatorBytes == 20)
}
