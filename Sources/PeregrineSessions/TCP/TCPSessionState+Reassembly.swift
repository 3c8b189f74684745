// SPDX-License-Identifier: Apache-2.0
import PeregrineDecode

/// What ``TCPReassembler`` needs from the session state, read after `process` returned. `isOriginator` is the side after any flip that packet caused
/// (``TCPPacketResult/flippedRoles``).
///
/// Per packet the engine does what Zeek's `TCPSessionAdapter::Process` does after its state
/// machine: with ACK, the peer direction's ``TCPReassembler/ackReceived(_:context:pool:consumer:)``
/// with ``relativeAcknowledgement(_:ofDataFrom:)``; then, with payload and no sequence underflow,
/// the sender's ``TCPReassembler/dataSent(sequence:payload:length:flags:context:pool:consumer:weirds:)``
/// with ``relativeDataSequence(_:flags:isOriginator:)``.
extension TCPSessionState {
    /// The endpoint facts for reassembling the data sent by the originator (`true`) or the
    /// responder (`false`).
    @inlinable
    public func reassemblyContext(isOriginator: Bool) -> TCPReassemblyContext {
        // Borrowed in place: `let e = isOriginator ? originator : responder` copied both ~180-byte
        // endpoints on every call (callgrind: a third of the reassembly glue's cost).
        isOriginator ? Self.context(originator, responder, isOriginator: true, isPartial: isPartial)
            : Self.context(responder, originator, isOriginator: false, isPartial: isPartial)
    }

    @inlinable
    static func context(_ e: borrowing TCPEndpoint, _ p: borrowing TCPEndpoint, isOriginator: Bool, isPartial: Bool)
        -> TCPReassemblyContext
    {
        let peerClean = isClean(p), peerState = p.state
        return TCPReassemblyContext(
            isOriginator: isOriginator, acknowledged: e.relative(e.ackSeq, e.ackWraps), noDataAcked: e.noDataAcked,
            endpointSize: e.size(peerState: peerState), finSequence: e.finCount > 0 ? e.finSeq : 0,
            bothClean: isClean(e) && peerClean, isPartial: isPartial, peerActive: peerState != .inactive)
    }

    /// Relative sequence number of the first payload byte of a segment the given side sent
    /// (`rel_data_seq`: after the SYN octet), or nil when it lies below the initial sequence
    /// number (`TCP_seq_underflow_or_misorder`: Zeek does not reassemble it).
    ///
    /// Valid right after `process` handled the segment: the wrap count it kept then places the
    /// 32-bit number in the 64-bit relative space.
    @inlinable
    public func relativeDataSequence(_ sequence: UInt32, flags: TCPFlags, isOriginator: Bool) -> UInt64? {
        let e = isOriginator ? originator : responder
        var underflow = false
        let relative = Self.relativeSeq(e, sequence, e.lastSeq, e.seqWraps, &underflow)
        if underflow { return nil }
        return flags.contains(.syn) ? relative &+ 1 : relative
    }

    /// Relative position up to which an ACK number acknowledges the data of the side
    /// `ofDataFrom` (`rel_ack`), or nil on `TCP_ack_underflow_or_misorder`.
    @inlinable
    public func relativeAcknowledgement(_ acknowledgement: UInt32, ofDataFrom isOriginator: Bool) -> UInt64? {
        let e = isOriginator ? originator : responder
        var underflow = false
        let relative = Self.relativeSeq(e, acknowledgement, e.ackSeq, e.ackWraps, &underflow)
        return underflow ? nil : relative
    }
}
