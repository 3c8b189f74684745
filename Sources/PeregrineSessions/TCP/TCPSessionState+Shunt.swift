// SPDX-License-Identifier: Apache-2.0

/// Where each side's sequence space stood when a connection was shunted (its later packets dropped
/// and counted by the XDP program): 64-bit positions (wraps included) of the highest sequence number
/// each side sent, and of the highest acknowledgement the peer sent for it.
public struct TCPShuntMark: Sendable, Equatable {
    public var originatorLast: UInt64 = 0
    public var originatorAcked: UInt64 = 0
    public var responderLast: UInt64 = 0
    public var responderAcked: UInt64 = 0
    public init() {}
}

/// Shunting: while the kernel drops a connection's segments, the state machine sees only SYN, FIN
/// and RST. What conn.log takes from sequence space (`orig_bytes`, `resp_bytes`) is restored from
/// how far the kernel saw each side's numbers move; and the sequence space the worker never saw is
/// not a content gap (no `missed_bytes`, no `G` in the history).
extension TCPSessionState {
    /// The positions the kernel's counts are measured from (`ShuntTable.Start` takes their low 32 bits).
    public var shuntMark: TCPShuntMark {
        var m = TCPShuntMark()
        m.originatorLast = originator.fullSeq(originator.lastSeq, originator.seqWraps)
        m.originatorAcked = originator.fullSeq(originator.ackSeq, originator.ackWraps)
        m.responderLast = responder.fullSeq(responder.lastSeq, responder.seqWraps)
        m.responderAcked = responder.fullSeq(responder.ackSeq, responder.ackWraps)
        return m
    }

    /// Stops content-gap accounting for both sides (Zeek's `skip_deliveries`): the bytes the kernel
    /// drops are not missing, they were counted there.
    public mutating func beginShunt() {
        originator.skipDeliveries = true
        originator.holes = TCPBlockList()
        responder.skipDeliveries = true
        responder.holes = TCPBlockList()
    }

    /// Moves each side's highest sequence and acknowledgement numbers forward by what the kernel saw
    /// while the connection was shunted (from `mark`), when that is beyond what the worker saw itself.
    /// - Parameters:
    ///   - originatorSequence: how far the originator's sequence numbers moved (kernel `seq_advance`).
    ///   - originatorAcknowledged: how far the responder's ACKs of the originator's data moved.
    ///   - responderSequence, responderAcknowledged: the same for the responder's data.
    public mutating func endShunt(
        mark: TCPShuntMark, originatorSequence: UInt64, originatorAcknowledged: UInt64, responderSequence: UInt64,
        responderAcknowledged: UInt64
    ) {
        Self.advance(&originator, last: mark.originatorLast &+ originatorSequence, acked: mark.originatorAcked &+ originatorAcknowledged)
        Self.advance(&responder, last: mark.responderLast &+ responderSequence, acked: mark.responderAcked &+ responderAcknowledged)
    }

    /// Adds the retransmissions and zero windows the kernel counted for each side to the history, as
    /// the state machine would have (`T`/`t`, `W`/`w` at the 1st, 10th, 100th ... of a side; the
    /// order among the letters of the shunted span is lost: retransmissions first).
    public mutating func addShuntedHistory(
        originatorRetransmissions: UInt64, responderRetransmissions: UInt64, originatorZeroWindows: UInt64,
        responderZeroWindows: UInt64, history: inout ConnectionHistory
    ) {
        func add(_ letter: UInt8, _ count: UInt64, isOriginator: Bool, counter: inout ScaledHistoryCounter) {
            for _ in 0..<count { _ = history.addScaled(letter, isOriginator: isOriginator, counter: &counter) }
        }
        add(UInt8(ascii: "T"), originatorRetransmissions, isOriginator: originator.isOrig, counter: &originator.retransmitCounter)
        add(UInt8(ascii: "T"), responderRetransmissions, isOriginator: responder.isOrig, counter: &responder.retransmitCounter)
        add(UInt8(ascii: "W"), originatorZeroWindows, isOriginator: originator.isOrig, counter: &originator.zeroWindowCounter)
        add(UInt8(ascii: "W"), responderZeroWindows, isOriginator: responder.isOrig, counter: &responder.zeroWindowCounter)
    }

    static func advance(_ e: inout TCPEndpoint, last: UInt64, acked: UInt64) {
        if last > e.fullSeq(e.lastSeq, e.seqWraps) {
            e.lastSeq = UInt32(truncatingIfNeeded: last)
            e.seqWraps = UInt32(truncatingIfNeeded: last >> 32)
        }
        if acked > e.fullSeq(e.ackSeq, e.ackWraps) {
            e.ackSeq = UInt32(truncatingIfNeeded: acked)
            e.ackWraps = UInt32(truncatingIfNeeded: acked >> 32)
        }
    }
}
