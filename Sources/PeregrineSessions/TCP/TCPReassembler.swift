// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode

/// Reassembly of one direction of one TCP connection, with Zeek's semantics
/// (`src/analyzer/protocol/tcp/TCP_Reassembler.cc` over `src/Reassem.cc`), small enough to sit
/// in the ``Connection`` slot (32 bytes: pinned by a test).
///
/// Sequence numbers are relative to the initial sequence number and 64 bits wide, as Zeek's:
/// the first data byte after the SYN is 1, and 32-bit wraparound was already unfolded by
/// ``TCPSessionState`` (its `seq_wraps`/`ack_wraps`), so nothing here wraps.
///
/// How data flows:
/// - A segment that starts where delivery stands (the common case) is delivered straight from
///   the captured packet: no copy. Buffered data it reaches is delivered after it, in order.
/// - A segment above a hole is copied into blocks of the worker's ``ReassemblyPool`` and waits.
///   Where it overlaps buffered data, the buffered bytes win (Zeek's `DataBlockList::Insert`
///   keeps the old block and inserts only the new parts); differing overlap bytes are Zeek's
///   `rexmit_inconsistency`.
/// - Data below the delivery point, or already acknowledged, is dropped: it was delivered.
/// - When the peer acknowledges data never seen, the missing range is a content gap
///   (``TCPStreamConsumer/gap(length:isOriginator:)``, conn.log `missed_bytes`, history `G`), and
///   buffered data after it is delivered (Zeek `TCP_Reassembler::Undelivered`).
/// - Data with RST is not part of the stream (Zeek ignores it); data after a FIN is reassembled
///   like any other (Zeek has no weird for it); the FIN's octet is not data, so an ack of it is
///   clamped (`AckReceived` with `FIN_seq`). Data before the initial sequence number never gets
///   here: ``TCPSessionState`` raises `TCP_seq_underflow_or_misorder` and the caller skips it.
/// - At connection end, data still above a hole is discarded without a gap
///   (``release(pool:)``), as Zeek's `TCP_Reassembler::Done` does.
///
/// Divergence from Zeek, for the zero-copy path: Zeek keeps delivered bytes until they are
/// acked and compares retransmissions against them; Peregrine keeps only undelivered bytes, so an
/// inconsistent retransmission of already-delivered data is not detected. Delivered data still
/// wins, as in Zeek, and the limits that count delivered-unacked bytes use sequence arithmetic.
///
/// The caller swaps the two directions' reassemblers when the roles flip, like the endpoints.
@frozen
public struct TCPReassembler: Sendable {
    /// `last_reassem_seq`: the next sequence number to deliver.
    @usableFromInline var reassembled: UInt64 = 1
    /// `trim_seq`: everything below was acknowledged (or given up on) and is dropped on arrival.
    @usableFromInline var trimmed: UInt64 = 1
    /// First buffered segment (pool index), sorted by sequence, all above the delivery point.
    @usableFromInline var head: Int32 = -1
    /// Bytes this direction holds in the pool.
    @usableFromInline var held: UInt32 = 0
    @usableFromInline var flags: UInt8 = 0

    @usableFromInline static let skipFlag: UInt8 = 1
    @usableFromInline static let gapFlag: UInt8 = 2

    /// A direction before any data (delivery starts at relative sequence 1).
    @inlinable public init() {}

    /// `last_reassem_seq`: the next relative sequence number to deliver.
    @inlinable public var nextSequence: UInt64 { reassembled }
    /// `trim_seq`: data below was acknowledged (or given up on) and is dropped on arrival.
    @inlinable public var trimSequence: UInt64 { trimmed }
    /// Bytes this direction holds in the pool.
    @inlinable public var bufferedBytes: UInt32 { held }
    /// `skip_deliveries`: reassembly gave up on this direction (a limit weird was raised).
    @inlinable public var skippingDeliveries: Bool { flags & Self.skipFlag != 0 }
    /// `HadGap()`: a content gap was reported.
    @inlinable public var hadGap: Bool { flags & Self.gapFlag != 0 }
    /// Whether any data waits above a hole.
    @inlinable public var hasBufferedData: Bool { head >= 0 }

    // MARK: - Data

    /// `TCP_Endpoint::DataSent` → `TCP_Reassembler::DataSent`: one segment's payload.
    ///
    /// - Parameters:
    ///   - sequence: relative sequence number of the first payload byte (after the SYN octet
    ///     when the segment carries a SYN).
    ///   - payload: the captured payload, borrowed for the call; may be longer than
    ///     `length` (Ethernet padding).
    ///   - length: the payload length from the IP header. A shorter capture raises
    ///     `truncated_tcp_payload` and nothing is reassembled (Zeek `TCP_Endpoint::DataSent`).
    ///   - flags: the segment's flags; payload with RST is ignored.
    ///   - context: endpoint facts after the state machine ran.
    /// - Returns: what was delivered, dropped or found inconsistent.
    @inlinable
    public mutating func dataSent<Consumer: TCPStreamConsumer>(
        sequence: UInt64, payload: UnsafeRawBufferPointer, length: Int, flags segmentFlags: TCPFlags,
        context: TCPReassemblyContext, pool: inout ReassemblyPool, consumer: inout Consumer,
        weirds: inout WeirdQueue
    ) -> TCPReassemblyOutcome {
        var outcome = TCPReassemblyOutcome()
        guard length > 0, !segmentFlags.contains(.rst) else { return outcome }
        guard payload.count >= length else {
            weirds.append(.truncatedTCPPayload)
            return outcome
        }
        guard !skippingDeliveries else { return outcome }
        var seq = sequence
        let upper = sequence &+ UInt64(length)
        // Already acked, already trimmed, or already delivered: keep only what lies above.
        let floor = max(context.acknowledged, trimmed, reassembled)
        if upper <= floor { return outcome }
        var data = UnsafeRawBufferPointer(rebasing: payload[0..<length])
        if seq < floor {
            data = UnsafeRawBufferPointer(rebasing: data[Int(floor - seq)...])
            seq = floor
        }

        if seq == reassembled {
            deliverInOrder(seq, data, context: context, pool: &pool, consumer: &consumer, outcome: &outcome)
            // BlockInserted: no acks for a while and more than the initial window sent: stop
            // holding delivered data for acks (TrimToSeq(last_reassem_seq)).
            if context.noDataAcked && pool.limits.maxInitialWindow > 0
                && context.endpointSize > pool.limits.maxInitialWindow
            {
                trimmed = max(trimmed, reassembled)
            }
        } else {
            insert(seq, data, context: context, pool: &pool, outcome: &outcome)
        }

        if context.noDataAcked && pool.limits.maxAboveHoleWithoutAnyAcks > 0
            && undeliveredSpan(pool) > pool.limits.maxAboveHoleWithoutAnyAcks
        {
            weirds.append(.aboveHoleDataWithoutAnyAcks)
            giveUp(pool: &pool)
        }
        // Zeek's block list holds delivered-but-unacked data too; here that part is the span
        // from trim_seq to the delivery point.
        let waiting = (reassembled > trimmed ? reassembled - trimmed : 0) + UInt64(held)
        if pool.limits.excessiveDataWithoutFurtherAcks > 0 && waiting > pool.limits.excessiveDataWithoutFurtherAcks {
            weirds.append(.excessiveDataWithoutFurtherAcks)
            giveUp(pool: &pool)
        }
        return outcome
    }

    /// `NumUndeliveredBytes()`: from the delivery point to the end of the last buffered byte.
    @inlinable
    func undeliveredSpan(_ pool: borrowing ReassemblyPool) -> UInt64 {
        var index = head
        var upper = reassembled
        while index >= 0 {
            upper = pool[index].upper
            index = pool[index].next
        }
        return upper - reassembled
    }

    /// Delivers `data`, which starts at ``nextSequence``, straight from the caller's buffer,
    /// interleaving buffered segments it reaches (buffered bytes win their overlap).
    @inlinable
    mutating func deliverInOrder<Consumer: TCPStreamConsumer>(
        _ seq: UInt64, _ data: UnsafeRawBufferPointer, context: TCPReassemblyContext, pool: inout ReassemblyPool,
        consumer: inout Consumer, outcome: inout TCPReassemblyOutcome
    ) {
        let upper = seq &+ UInt64(data.count)
        var cursor = seq
        while cursor < upper {
            guard head >= 0, pool[head].sequence < upper else {
                Self.deliver(UnsafeRawBufferPointer(rebasing: data[Int(cursor - seq)...]), context, &consumer, &outcome)
                cursor = upper
                break
            }
            let segment = pool[head]
            if segment.sequence > cursor {
                let piece = data[Int(cursor - seq)..<Int(segment.sequence - seq)]
                Self.deliver(UnsafeRawBufferPointer(rebasing: piece), context, &consumer, &outcome)
                cursor = segment.sequence
            }
            let overlapEnd = min(upper, segment.upper)
            let overlap = UnsafeRawBufferPointer(rebasing: data[Int(cursor - seq)..<Int(overlapEnd - seq)])
            checkOverlap(head, offset: 0, overlap, context: context, pool: &pool, outcome: &outcome)
            cursor = segment.upper
            reassembled = segment.upper
            popHead(deliveringTo: &consumer, context, pool: &pool, outcome: &outcome)
        }
        reassembled = max(reassembled, cursor)
        drainContiguous(context, pool: &pool, consumer: &consumer, outcome: &outcome)
    }

    /// Copies the parts of `data` (above ``nextSequence``) that no buffered segment covers into
    /// the pool, in order; overlaps keep the buffered bytes.
    @inlinable
    mutating func insert(
        _ seqIn: UInt64, _ data: UnsafeRawBufferPointer, context: TCPReassemblyContext, pool: inout ReassemblyPool,
        outcome: inout TCPReassemblyOutcome
    ) {
        let upper = seqIn &+ UInt64(data.count)
        var seq = seqIn
        var previous: Int32 = -1
        var index = head
        while seq < upper {
            // Skip segments entirely below the remaining data.
            while index >= 0 && pool[index].upper <= seq {
                previous = index
                index = pool[index].next
            }
            let pieceEnd = index >= 0 ? min(upper, pool[index].sequence) : upper
            if pieceEnd > seq {
                let piece = UnsafeRawBufferPointer(rebasing: data[Int(seq - seqIn)..<Int(pieceEnd - seqIn)])
                if let stored = store(seq, piece, pool: &pool, outcome: &outcome) {
                    pool[stored].next = index
                    if previous >= 0 { pool[previous].next = stored } else { head = stored }
                    previous = stored
                }
                seq = pieceEnd
            }
            guard seq < upper, index >= 0 else { break }
            // Overlap with the buffered segment at `index`: it wins.
            let segment = pool[index]
            let overlapEnd = min(upper, segment.upper)
            let overlap = UnsafeRawBufferPointer(rebasing: data[Int(seq - seqIn)..<Int(overlapEnd - seqIn)])
            checkOverlap(
                index, offset: Int(seq - segment.sequence), overlap, context: context, pool: &pool, outcome: &outcome)
            seq = overlapEnd
        }
    }

    /// Takes a pool segment for `piece` within the per-connection and pool limits; counts drops.
    @inlinable
    mutating func store(
        _ seq: UInt64, _ piece: UnsafeRawBufferPointer, pool: inout ReassemblyPool, outcome: inout TCPReassemblyOutcome
    ) -> Int32? {
        if UInt64(held) + UInt64(piece.count) > pool.limits.maxBufferedBytesPerConnection {
            pool.segmentsDroppedConnectionLimit.increment()
        } else if let stored = pool.store(sequence: seq, piece) {
            held += UInt32(piece.count)
            return stored
        } else {
            pool.segmentsDroppedPoolFull.increment()
        }
        pool.bytesDropped.increment(by: UInt64(piece.count))
        outcome.droppedPieces += 1
        return nil
    }

    /// `Reassembler::CheckOverlap` → `TCP_Reassembler::Overlap`: differing bytes are a
    /// `rexmit_inconsistency`, unless it is a lone byte and the peer never spoke (keep-alive).
    @inlinable
    func checkOverlap(
        _ index: Int32, offset: Int, _ overlap: UnsafeRawBufferPointer, context: TCPReassemblyContext,
        pool: inout ReassemblyPool, outcome: inout TCPReassemblyOutcome
    ) {
        guard overlap.count > 0, overlap.count > 1 || context.peerActive else { return }
        if !pool.matches(index, offset: offset, overlap) {
            outcome.rexmitInconsistency = true
            pool.rexmitInconsistencies.increment()
        }
    }

    @inlinable
    static func deliver<Consumer: TCPStreamConsumer>(
        _ bytes: UnsafeRawBufferPointer, _ context: TCPReassemblyContext, _ consumer: inout Consumer,
        _ outcome: inout TCPReassemblyOutcome
    ) {
        guard bytes.count > 0 else { return }
        consumer.deliver(bytes, isOriginator: context.isOriginator)
        outcome.deliveredBytes &+= UInt64(bytes.count)
    }

    /// Delivers the head segment from its start (the caller moved ``nextSequence`` to its end)
    /// and frees it.
    @inlinable
    mutating func popHead<Consumer: TCPStreamConsumer>(
        deliveringTo consumer: inout Consumer, _ context: TCPReassemblyContext, pool: inout ReassemblyPool,
        outcome: inout TCPReassemblyOutcome
    ) {
        let index = head
        pool.forEachChunk(of: index) { Self.deliver($0, context, &consumer, &outcome) }
        head = pool[index].next
        held -= pool[index].length
        pool.release(index)
    }

    /// `BlockInserted`: delivers buffered segments while they start at the delivery point.
    @inlinable
    mutating func drainContiguous<Consumer: TCPStreamConsumer>(
        _ context: TCPReassemblyContext, pool: inout ReassemblyPool, consumer: inout Consumer,
        outcome: inout TCPReassemblyOutcome
    ) {
        while head >= 0 && pool[head].sequence == reassembled {
            reassembled = pool[head].upper
            popHead(deliveringTo: &consumer, context, pool: &pool, outcome: &outcome)
        }
    }

    /// Clears the buffer and stops delivering (`ClearBlocks(); skip_deliveries = true`).
    @inlinable
    mutating func giveUp(pool: inout ReassemblyPool) {
        freeAll(pool: &pool)
        flags |= Self.skipFlag
    }

    @inlinable
    mutating func freeAll(pool: inout ReassemblyPool) {
        while head >= 0 {
            let index = head
            head = pool[index].next
            held -= pool[index].length
            pool.release(index)
        }
    }

    // MARK: - Acks

    /// `TCP_Endpoint::AckReceived` → `TCP_Reassembler::AckReceived`: the peer acknowledged this
    /// direction up to relative sequence `acknowledged`.
    ///
    /// Acked data never seen is a content gap (`Undelivered`); buffered segments below the ack
    /// are delivered after their gaps. Nothing happens for an ack at or below ``trimSequence``.
    /// With a partial connection, an ack of 1 or 2 is ignored (Zeek: the faked initial sequence
    /// or a keep-alive's octet).
    @inlinable
    public mutating func ackReceived<Consumer: TCPStreamConsumer>(
        _ acknowledged: UInt64, context: TCPReassemblyContext, pool: inout ReassemblyPool, consumer: inout Consumer
    ) -> TCPReassemblyOutcome {
        var outcome = TCPReassemblyOutcome()
        var seq = acknowledged
        // The FIN's octet is sequence space, not data.
        if context.finSequence > 0 && seq >= context.finSequence { seq = context.finSequence - 1 }
        guard seq > trimmed else { return outcome }
        if seq > reassembled && !(seq <= 2 && context.isPartial) {
            if !skippingDeliveries {
                while head >= 0 && pool[head].sequence < seq {
                    reportGap(pool[head].sequence - reassembled, context, &consumer, &outcome)
                    reassembled = pool[head].sequence
                    drainContiguous(context, pool: &pool, consumer: &consumer, outcome: &outcome)
                }
                if seq > reassembled { reportGap(seq - reassembled, context, &consumer, &outcome) }
            }
            reassembled = max(reassembled, seq)
        }
        trimmed = seq
        return outcome
    }

    /// `TCP_Reassembler::Gap`: the consumer always hears of it; conn.log counts it only when both
    /// endpoints are established or cleanly closing.
    @inlinable
    mutating func reportGap<Consumer: TCPStreamConsumer>(
        _ length: UInt64, _ context: TCPReassemblyContext, _ consumer: inout Consumer,
        _ outcome: inout TCPReassemblyOutcome
    ) {
        guard length > 0 else { return }
        consumer.gap(length: length, isOriginator: context.isOriginator)
        outcome.gapBytes &+= length
        if context.bothClean {
            outcome.missedBytes &+= length
            outcome.missedGaps &+= 1
        }
        flags |= Self.gapFlag
    }

    // MARK: - End

    /// The connection is gone (`TCP_Reassembler::Done`): buffered data above a hole is discarded
    /// without a gap, as in Zeek, and counted in `tcp_reassembly.undelivered_bytes_at_close`.
    /// Must be called before the connection's slot is reused, or its blocks stay taken.
    ///
    /// - Returns: the bytes discarded.
    @inlinable
    @discardableResult
    public mutating func release(pool: inout ReassemblyPool) -> UInt64 {
        let discarded = UInt64(held)
        freeAll(pool: &pool)
        pool.undeliveredBytesAtClose.increment(by: discarded)
        return discarded
    }
}
