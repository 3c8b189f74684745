// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import Testing

@testable import PeregrineSessions

/// Drives a TCPSessionState like the engine does.
struct Conn {
    var tcp = TCPSessionState()
    var history = ConnectionHistory()
    var weirds = WeirdQueue()

    @discardableResult
    mutating func pkt(_ orig: Bool, _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0, len: Int = 0, win: UInt16 = 1000)
        -> TCPPacketResult
    {
        tcp.process(
            isOriginator: orig, flags: flags, sequence: seq, acknowledgement: ack, payloadLength: len, window: win,
            checksumValid: true, history: &history, weirds: &weirds)
    }
    var state: String { tcp.connState(history: history).description }
}

@Test func normalConnectionShADadFf() {
    var c = Conn()
    c.pkt(true, .syn, seq: 100)
    c.pkt(false, [.syn, .ack], seq: 500, ack: 101)
    c.pkt(true, .ack, seq: 101, ack: 501)
    c.pkt(true, [.ack, .psh], seq: 101, ack: 501, len: 10)
    c.pkt(false, .ack, seq: 501, ack: 111)
    c.pkt(false, [.ack, .psh], seq: 501, ack: 111, len: 20)
    c.pkt(true, .ack, seq: 111, ack: 521)
    c.pkt(true, [.fin, .ack], seq: 111, ack: 521)
    c.pkt(false, [.fin, .ack], seq: 521, ack: 112)
    let last = c.pkt(true, .ack, seq: 112, ack: 522)
    #expect(c.history.string == "ShADadFf")
    #expect(c.state == "SF")
    #expect(c.tcp.originatorBytes == 10)
    #expect(c.tcp.responderBytes == 20)
    #expect(c.tcp.missedBytes == 0)
    #expect(last.updatesLastTime == false)
}

@Test func rejectedSr() {
    var c = Conn()
    c.pkt(true, .syn, seq: 3_145_310_914)
    c.pkt(false, [.rst, .ack], seq: 0, ack: 3_145_310_915, win: 0)
    #expect(c.history.string == "Sr")
    #expect(c.state == "REJ")
}

@Test func flipWithoutSYN() {
    var c = Conn()
    c.pkt(true, [.syn, .ack], seq: 2_779_762_238, ack: 4_263_588_411)
    #expect(c.weirds.contains("connection_originator_SYN_ack"))
    let r = c.pkt(false, .ack, seq: 4_263_588_411, ack: 2_779_762_239)
    #expect(r.flippedRoles)
    // After the flip the 6669 side is the originator.
    c.pkt(true, [.ack, .psh], seq: 4_263_588_411, ack: 2_779_762_239, len: 136)
    c.pkt(false, .ack, seq: 2_779_762_239, ack: 4_263_588_547)
    c.pkt(false, [.ack, .psh], seq: 2_779_762_239, ack: 4_263_588_547, len: 300)
    c.pkt(true, .ack, seq: 4_263_588_547, ack: 2_779_762_539)
    c.pkt(true, [.fin, .ack], seq: 4_263_588_547, ack: 2_779_762_539)
    c.pkt(false, [.fin, .ack], seq: 2_779_762_539, ack: 4_263_588_548)
    #expect(c.history.string == "^hADadFf")
    #expect(c.state == "SF")
    #expect(c.tcp.originatorBytes == 136)
    #expect(c.tcp.responderBytes == 300)
}

@Test func creationFlipFinThenAckIsSHR() {
    var c = Conn()
    #expect(RoleDecision.shouldFlip(transportProtocol: 6, flags: [.fin, .ack], sourcePort: 80, destinationPort: 1576))
    c.tcp.flipRoles(history: &c.history)
    c.pkt(false, [.fin, .ack], seq: 3_545_886_737, ack: 3_717_931_297)
    c.pkt(true, .ack, seq: 3_717_931_297, ack: 3_545_886_738)
    #expect(c.history.string == "^fA")
    #expect(c.state == "SHR")
}

@Test func creationFlipRstIsRSTRH() {
    var c = Conn()
    c.tcp.flipRoles(history: &c.history)
    c.pkt(false, [.rst, .ack], seq: 1, ack: 2)
    #expect(c.history.string == "^r")
    #expect(c.state == "RSTRH")
}

@Test func gapCountsMissedBytes() {
    var c = Conn()
    c.pkt(true, .syn, seq: 0)
    c.pkt(false, [.syn, .ack], seq: 1000, ack: 1)
    c.pkt(true, .ack, seq: 1, ack: 1001)
    c.pkt(true, .ack, seq: 1, ack: 1001, len: 100)
    // bytes 101..<201 never seen; the peer acks 301.
    c.pkt(true, .ack, seq: 201, ack: 1001, len: 100)
    c.pkt(false, .ack, seq: 1001, ack: 301)
    #expect(c.tcp.missedBytes == 100)
    // The gap is in the originator's data, so the letter is upper case (TCP_Endpoint::Gap).
    #expect(c.history.string == "ShADaG")
}

@Test func retransmissionAddsT() {
    var c = Conn()
    c.pkt(true, .syn, seq: 0)
    c.pkt(false, [.syn, .ack], seq: 1000, ack: 1)
    c.pkt(true, .ack, seq: 1, ack: 1001)
    c.pkt(true, .ack, seq: 1, ack: 1001, len: 50)
    c.pkt(true, .ack, seq: 1, ack: 1001, len: 50)
    #expect(c.history.string == "ShADT")
    #expect(c.state == "S1")
}

@Test func synOnlyIsS0AndSynRstIsRSTOS0() {
    var a = Conn()
    let r = a.pkt(true, .syn, seq: 7)
    #expect(r.armAttemptTimer)
    #expect(a.state == "S0")
    a.pkt(true, .rst, seq: 8)
    #expect(a.history.string == "SR")
    #expect(a.state == "RSTOS0")
}

@Test func sequenceWrapCountsBytes() {
    var c = Conn()
    c.pkt(true, .syn, seq: 0xFFFF_FFF0)
    c.pkt(false, [.syn, .ack], seq: 10, ack: 0xFFFF_FFF1)
    c.pkt(true, .ack, seq: 0xFFFF_FFF1, ack: 11, len: 100)
    c.pkt(false, .ack, seq: 11, ack: 0xFFFF_FFF1 &+ 100)
    #expect(c.tcp.originatorBytes == 100)
}

@Test func badChecksumOnlyAddsC() {
    var c = Conn()
    let r = c.tcp.process(
        isOriginator: true, flags: .syn, sequence: 1, acknowledgement: 0, payloadLength: 0, window: 10,
        checksumValid: false, history: &c.history, weirds: &c.weirds)
    #expect(c.history.string == "C")
    #expect(c.weirds.contains("bad_TCP_checksum"))
    #expect(!r.updatesLastTime)
    #expect(c.tcp.originator.state == .inactive)
}
