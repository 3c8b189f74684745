// SPDX-License-Identifier: Apache-2.0
import PeregrineDecode
import Testing

@testable import PeregrineSessions

/// One TCP segment of a scripted connection: direction, flags, sequence and acknowledgement
/// numbers, payload length and window.
struct Segment: Sendable, CustomStringConvertible {
    var orig: Bool
    var flags: TCPFlags
    var seq: UInt32
    var ack: UInt32 = 0
    var len = 0
    var win: UInt16 = 1000

    var description: String {
        let names: [(TCPFlags, String)] = [(.syn, "S"), (.fin, "F"), (.rst, "R"), (.ack, "A")]
        let f = names.filter { flags.contains($0.0) }.map(\.1).joined()
        return "\(orig ? ">" : "<")\(f)\(len > 0 ? "+\(len)" : "")"
    }
}

/// A scripted connection and the history and conn_state Zeek gives it.
struct ConnStateCase: Sendable, CustomTestStringConvertible {
    var name: String
    var segments: [Segment]
    var history: String
    var state: String
    var testDescription: String { "\(state): \(name)" }
}

// The originator's initial sequence number is 100 and the responder's 500 throughout.
let clientSYN = Segment(orig: true, flags: .syn, seq: 100)
let serverSYNACK = Segment(orig: false, flags: [.syn, .ack], seq: 500, ack: 101)
let clientACK = Segment(orig: true, flags: .ack, seq: 101, ack: 501)
let handshake = [clientSYN, serverSYNACK, clientACK]

/// Every conn_state of Zeek's `conn_state()` (base/protocols/conn/main.zeek), each from the endpoint
/// states the TCP analyzer reaches (TCPSessionAdapter::UpdateStateMachine). The last three are the
/// traces of Zeek's btest scripts/base/protocols/conn/conn_state-RST-behavior (single-rst,
/// syn-then-ack-then-rst, syn-then-stuff-then-rst) rebuilt packet by packet.
let connStateCases: [ConnStateCase] = [
    ConnStateCase(name: "SYN without reply", segments: [clientSYN], history: "S", state: "S0"),
    ConnStateCase(name: "handshake, no close", segments: handshake, history: "ShA", state: "S1"),
    ConnStateCase(
        name: "handshake and both FINs",
        segments: handshake + [
            Segment(orig: true, flags: [.fin, .ack], seq: 101, ack: 501),
            Segment(orig: false, flags: [.fin, .ack], seq: 501, ack: 102),
            Segment(orig: true, flags: .ack, seq: 102, ack: 502),
        ], history: "ShAFf", state: "SF"),
    ConnStateCase(
        name: "SYN answered by RST-ACK",
        segments: [clientSYN, Segment(orig: false, flags: [.rst, .ack], seq: 0, ack: 101, win: 0)],
        history: "Sr", state: "REJ"),
    ConnStateCase(
        name: "only RSTs from both sides (both sizes 0)",
        segments: [Segment(orig: true, flags: .rst, seq: 100), Segment(orig: false, flags: .rst, seq: 500)],
        history: "Rr", state: "REJ"),
    ConnStateCase(
        name: "originator FIN, responder only acks it",
        segments: handshake + [
            Segment(orig: true, flags: [.fin, .ack], seq: 101, ack: 501),
            Segment(orig: false, flags: .ack, seq: 501, ack: 102),
        ], history: "ShAFa", state: "S2"),
    ConnStateCase(
        name: "responder FIN, originator only acks it",
        segments: handshake + [
            Segment(orig: false, flags: [.fin, .ack], seq: 501, ack: 101),
            Segment(orig: true, flags: .ack, seq: 101, ack: 502),
        ], history: "ShAf", state: "S3"),
    ConnStateCase(
        name: "originator RST after the handshake",
        segments: handshake + [Segment(orig: true, flags: .rst, seq: 101)], history: "ShAR", state: "RSTO"),
    ConnStateCase(
        name: "responder RST after data",
        segments: handshake + [
            Segment(orig: true, flags: [.ack], seq: 101, ack: 501, len: 10),
            Segment(orig: false, flags: [.rst, .ack], seq: 501, ack: 111),
        ], history: "ShADr", state: "RSTR"),
    ConnStateCase(
        name: "SYN then RST",
        segments: [clientSYN, Segment(orig: true, flags: .rst, seq: 101)], history: "SR", state: "RSTOS0"),
    ConnStateCase(
        name: "SYN-ACK then RST from the responder, no SYN",
        segments: [
            Segment(orig: false, flags: [.syn, .ack], seq: 500, ack: 101),
            Segment(orig: false, flags: [.rst, .ack], seq: 501, ack: 101),
        ], history: "hr", state: "RSTRH"),
    ConnStateCase(
        name: "SYN then FIN, no SYN-ACK",
        segments: [clientSYN, Segment(orig: true, flags: .fin, seq: 101)], history: "SF", state: "SH"),
    ConnStateCase(
        name: "SYN-ACK then FIN from the responder, no SYN",
        segments: [
            Segment(orig: false, flags: [.syn, .ack], seq: 500, ack: 101),
            Segment(orig: false, flags: [.fin, .ack], seq: 501, ack: 101),
        ], history: "hf", state: "SHR"),
    ConnStateCase(
        name: "midstream data and ack",
        segments: [
            Segment(orig: true, flags: .ack, seq: 1000, ack: 2000, len: 10),
            Segment(orig: false, flags: .ack, seq: 2000, ack: 1010),
        ], history: "Da", state: "OTH"),
    ConnStateCase(
        name: "single RST (btest single-rst)", segments: [Segment(orig: true, flags: .rst, seq: 100)],
        history: "R", state: "OTH"),
    ConnStateCase(
        name: "SYN, responder ACK, RST (btest syn-then-ack-then-rst)",
        segments: [
            clientSYN, Segment(orig: false, flags: .ack, seq: 500, ack: 101),
            Segment(orig: true, flags: .rst, seq: 101),
        ], history: "SaR", state: "RSTOS0"),
    ConnStateCase(
        name: "SYN, responder ACK, FIN, RST (btest syn-then-stuff-then-rst)",
        segments: [
            clientSYN, Segment(orig: false, flags: .ack, seq: 500, ack: 101),
            Segment(orig: true, flags: .fin, seq: 101), Segment(orig: true, flags: .rst, seq: 102),
        ], history: "SaFR", state: "OTH"),
]

@Test(arguments: connStateCases)
func connStateFromSegments(_ c: ConnStateCase) {
    var conn = Conn()
    for s in c.segments { conn.pkt(s.orig, s.flags, seq: s.seq, ack: s.ack, len: s.len, win: s.win) }
    #expect(conn.history.string == c.history, "segments \(c.segments)")
    #expect(conn.state == c.state, "segments \(c.segments)")
}

@Test func s2AndS3CountOnlyTheirData() {
    // The responder's FIN with 20 bytes of data: those 20 bytes are its size, the FIN octet is not.
    var c = Conn()
    for s in handshake { c.pkt(s.orig, s.flags, seq: s.seq, ack: s.ack) }
    c.pkt(false, [.fin, .ack, .psh], seq: 501, ack: 101, len: 20)
    c.pkt(true, .ack, seq: 101, ack: 522)
    #expect(c.state == "S3")
    #expect(c.tcp.responderBytes == 20)
    #expect(c.tcp.originatorBytes == 0)
}

@Test func rejectedSYNIsREJEvenAfterRetransmittedSYNs() {
    var c = Conn()
    c.pkt(true, .syn, seq: 100)
    c.pkt(true, .syn, seq: 100)
    c.pkt(false, [.rst, .ack], seq: 0, ack: 101)
    // A retransmitted SYN with the same sequence number adds no second `S`.
    #expect(c.history.string == "Sr")
    #expect(c.state == "REJ")
}
