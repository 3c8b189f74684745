// SPDX-License-Identifier: Apache-2.0
import Testing

@testable import PeregrineSessions

@Test func scaledLettersAtPowersOfTen() {
    var h = ConnectionHistory()
    var counter = ScaledHistoryCounter()
    for _ in 0..<100 { h.addScaled(UInt8(ascii: "T"), isOriginator: false, counter: &counter) }
    #expect(h.string == "ttt")
}

@Test func onceLettersPerDirection() {
    var h = ConnectionHistory()
    h.checkOnce(UInt8(ascii: "D"), mask: .data, isOriginator: true)
    h.checkOnce(UInt8(ascii: "D"), mask: .data, isOriginator: true)
    h.checkOnce(UInt8(ascii: "D"), mask: .data, isOriginator: false)
    #expect(h.string == "Dd")
}

@Test func udpMisorderedNTPIsDCaret() {
    var h = ConnectionHistory()
    var w = WeirdQueue()
    var udp = UDPSessionState()
    udp.process(isOriginator: true, udpLength: 56, checksumValid: true, history: &h, weirds: &w)
    udp.flipRoles(history: &h)
    udp.process(isOriginator: true, udpLength: 56, checksumValid: true, history: &h, weirds: &w)
    #expect(h.string == "D^")
    #expect(udp.originatorBytes == 96)
    #expect(udp.connState.description == "S0")
}
