// SPDX-License-Identifier: Apache-2.0

/// What a TCP stream analyzer receives from reassembly: the stream half of the boundary between
/// sessions and analyzers (style.md §2: sessions reach analyzers only through
/// `ConnectionAnalyzer`, which refines this protocol with its packet-level hooks).
///
/// Zeek's counterparts are `Analyzer::NextStream` / `ForwardStream` and `NextUndelivered` /
/// `ForwardUndelivered`, called by `TCP_Reassembler::Deliver` and `TCP_Reassembler::Gap`.
/// ``TCPReassembler`` takes the consumer as a generic `inout` parameter, so the calls are
/// specialised and direct: no existential, no allocation.
public protocol TCPStreamConsumer {
    /// The next contiguous bytes of one direction, in stream order.
    ///
    /// The buffer is borrowed: it points into the captured packet (data that arrived in order)
    /// or into a ``ReassemblyPool`` block, and is valid only during the call. Copy what must
    /// outlive it. One segment may arrive in several calls (one per pool block).
    mutating func deliver(_ data: UnsafeRawBufferPointer, isOriginator: Bool)

    /// `length` bytes of one direction were acknowledged by the peer but never seen: the stream
    /// continues after them. Parsers resynchronise or give up (style.md §5, `.gap`).
    mutating func gap(length: UInt64, isOriginator: Bool)
}

/// The endpoint facts Zeek's `TCP_Reassembler` reads from its `TCP_Endpoint` and the session,
/// taken after the packet went through ``TCPSessionState``'s `process` (Zeek reassembles after
/// updating the state machine). Build it with
/// ``TCPSessionState/reassemblyContext(isOriginator:)``.
@frozen
public struct TCPReassemblyContext: Sendable, Equatable {
    /// Whether the reassembled direction is the originator's (passed to the consumer).
    public var isOriginator: Bool
    /// How far the peer has acknowledged this direction, relative (`AckSeq` in relative space):
    /// arriving data below it is not delivered again.
    public var acknowledged: UInt64
    /// `NoDataAcked()`: the peer acknowledged nothing beyond the SYN.
    public var noDataAcked: Bool
    /// `TCP_Endpoint::Size()`: bytes sent in this direction by sequence space.
    public var endpointSize: UInt64
    /// `FIN_seq` (relative sequence one past the FIN) when this direction sent a FIN, else 0.
    public var finSequence: UInt64
    /// `established_or_cleanly_closing(endp, peer)`: only then do gaps count as conn.log
    /// `missed_bytes` (Zeek's `content_gap` event with `report_gaps_for_partial = F`).
    public var bothClean: Bool
    /// `IsPartial()`: the connection was picked up mid-stream.
    public var isPartial: Bool
    /// `peer->HasDoneSomething()`: the peer sent anything. A one-byte inconsistent overlap is
    /// only reported when it did (that weeds out keep-alives).
    public var peerActive: Bool

    /// A context with every field given.
    @inlinable
    public init(
        isOriginator: Bool, acknowledged: UInt64, noDataAcked: Bool, endpointSize: UInt64, finSequence: UInt64,
        bothClean: Bool, isPartial: Bool, peerActive: Bool
    ) {
        self.isOriginator = isOriginator
        self.acknowledged = acknowledged
        self.noDataAcked = noDataAcked
        self.endpointSize = endpointSize
        self.finSequence = finSequence
        self.bothClean = bothClean
        self.isPartial = isPartial
        self.peerActive = peerActive
    }
}

/// What one reassembler call did besides delivering bytes: the engine adds ``missedBytes`` to
/// conn.log's `missed_bytes` and raises `rexmit_inconsistency` when asked.
@frozen
public struct TCPReassemblyOutcome: Sendable, Equatable {
    /// Bytes handed to ``TCPStreamConsumer/deliver(_:isOriginator:)``.
    public var deliveredBytes: UInt64 = 0
    /// Bytes reported through ``TCPStreamConsumer/gap(length:isOriginator:)``.
    public var gapBytes: UInt64 = 0
    /// The part of ``gapBytes`` Zeek reports as `content_gap` (both endpoints clean), which
    /// conn.log sums into `missed_bytes`.
    public var missedBytes: UInt64 = 0
    /// How many gaps ``missedBytes`` came from: each is one `content_gap`, and one step of the
    /// scaled history letter `G`/`g`.
    public var missedGaps: UInt32 = 0
    /// A retransmission overlapped buffered data with different bytes (Zeek's
    /// `rexmit_inconsistency` event). The buffered bytes won.
    public var rexmitInconsistency = false
    /// Out-of-order pieces of this call dropped by a limit (see ``ReassemblyPool`` counters).
    public var droppedPieces: UInt32 = 0

    /// Nothing happened.
    @inlinable public init() {}
}
