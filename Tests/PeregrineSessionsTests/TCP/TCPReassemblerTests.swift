// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode
import PeregrineTestSupport
import Testing

@testable import PeregrineSessions

/// Records what reassembly hands to an analyzer, in order.
struct Recorder: TCPStreamConsumer {
    enum Event: Equatable {
        case data([UInt8])
        case gap(UInt64)
    }
    var events: [Event] = []
    var pointers: [UnsafeRawPointer?] = []

    mutating func deliver(_ data: UnsafeRawBufferPointer, isOriginator: Bool) {
        pointers.append(data.baseAddress)
        if case .data(let previous) = events.last {
            events[events.count - 1] = .data(previous + Array(data))
        } else {
            events.append(.data(Array(data)))
        }
    }

    mutating func gap(length: UInt64, isOriginator: Bool) { events.append(.gap(length)) }

    /// All delivered bytes, gaps skipped.
    var bytes: [UInt8] {
        events.flatMap { event -> [UInt8] in
            if case .data(let d) = event { return d }
            return []
        }
    }
}

/// Context of an established connection whose acks are visible.
func established(acknowledged: UInt64 = 1, clean: Bool = true) -> TCPReassemblyContext {
    TCPReassemblyContext(
        isOriginator: true, acknowledged: acknowledged, noDataAcked: false, endpointSize: 0, finSequence: 0,
        bothClean: clean, isPartial: false, peerActive: true)
}

/// Small blocks so that segments span several of them.
func smallPool(bytes: Int = 4096, block: Int = 8, perConnection: UInt64 = 1 << 20) -> ReassemblyPool {
    var limits = TCPReassemblyLimits()
    limits.poolCapacityBytes = bytes
    limits.blockSize = block
    limits.maxBufferedBytesPerConnection = perConnection
    return ReassemblyPool(limits: limits)
}

/// Bytes `0, 1, 2, ...` for relative sequence `1...`: byte at sequence s is `UInt8(truncatingIfNeeded: s)`.
func stream(_ range: Range<UInt64>) -> [UInt8] { range.map { UInt8(truncatingIfNeeded: $0) } }

@discardableResult
func feed(
    _ r: inout TCPReassembler, _ seq: UInt64, _ bytes: [UInt8], _ pool: inout ReassemblyPool, _ rec: inout Recorder,
    _ weirds: inout WeirdQueue, context: TCPReassemblyContext = established(), flags: TCPFlags = .ack
) -> TCPReassemblyOutcome {
    bytes.withUnsafeBytes {
        r.dataSent(
            sequence: seq, payload: $0, length: bytes.count, flags: flags, context: context, pool: &pool,
            consumer: &rec, weirds: &weirds)
    }
}

@Test func reassemblerFitsInTheConnectionSlot() {
    #expect(MemoryLayout<TCPReassembler>.size <= 32)
}

@Test func inOrderDataIsDeliveredFromThePacketWithoutCopy() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    let payload = stream(1..<101)
    payload.withUnsafeBytes { buffer in
        let outcome = r.dataSent(
            sequence: 1, payload: buffer, length: buffer.count, flags: .ack, context: established(), pool: &pool,
            consumer: &rec, weirds: &weirds)
        #expect(outcome.deliveredBytes == 100)
        #expect(rec.pointers == [buffer.baseAddress])
    }
    #expect(rec.bytes == payload)
    #expect(r.nextSequence == 101)
    #expect(pool.freeBlocks == pool.blockCount)
    #expect(pool.peakBufferedBytes.value == 0)
}

@Test func outOfOrderSegmentsWaitForTheHole() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 21, stream(21..<41), &pool, &rec, &weirds)
    feed(&r, 11, stream(11..<21), &pool, &rec, &weirds)
    #expect(rec.events.isEmpty)
    #expect(r.bufferedBytes == 30)
    #expect(pool.bufferedBytes.value == 30)
    let outcome = feed(&r, 1, stream(1..<11), &pool, &rec, &weirds)
    #expect(outcome.deliveredBytes == 40)
    #expect(rec.bytes == stream(1..<41))
    #expect(r.nextSequence == 41)
    #expect(r.bufferedBytes == 0)
    #expect(pool.freeBlocks == pool.blockCount)
    #expect(pool.peakBufferedBytes.value == 30)
    #expect(weirds.count == 0)
}

@Test func bufferedBytesWinOverlapsAndDifferencesAreInconsistencies() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    let old = [UInt8](repeating: 0x42, count: 10)  // "B" at [11, 21)
    feed(&r, 11, old, &pool, &rec, &weirds)
    // Retransmission covering [1, 26): "A" x 10, then "X" x 15 over the buffered "B"s and beyond.
    let new = [UInt8](repeating: 0x41, count: 10) + [UInt8](repeating: 0x58, count: 15)
    let outcome = feed(&r, 1, new, &pool, &rec, &weirds)
    #expect(rec.bytes == [UInt8](repeating: 0x41, count: 10) + old + [UInt8](repeating: 0x58, count: 5))
    #expect(outcome.rexmitInconsistency)
    #expect(pool.rexmitInconsistencies.value == 1)
    #expect(r.nextSequence == 26)
}

@Test func consistentOverlapsAreNotInconsistencies() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 11, stream(11..<21), &pool, &rec, &weirds)
    // Overlaps the buffered segment from both sides, out of order.
    let o1 = feed(&r, 6, stream(6..<31), &pool, &rec, &weirds)
    #expect(!o1.rexmitInconsistency)
    #expect(r.bufferedBytes == 25)
    feed(&r, 1, stream(1..<6), &pool, &rec, &weirds)
    #expect(rec.bytes == stream(1..<31))
    #expect(pool.rexmitInconsistencies.value == 0)
    #expect(pool.freeBlocks == pool.blockCount)
}

@Test func overlapInsideAHoleKeepsBufferedBytesAndFillsAround() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 15, [1, 2, 3], &pool, &rec, &weirds)  // [15, 18)
    feed(&r, 25, [4, 5], &pool, &rec, &weirds)  // [25, 27)
    // Covers both with different bytes: only [10, 15), [18, 25), [27, 30) are new.
    let o = feed(&r, 10, [UInt8](repeating: 9, count: 20), &pool, &rec, &weirds)
    #expect(o.rexmitInconsistency)
    #expect(r.bufferedBytes == 20)
    feed(&r, 1, [UInt8](repeating: 7, count: 9), &pool, &rec, &weirds)
    let expected =
        [UInt8](repeating: 7, count: 9) + [UInt8](repeating: 9, count: 5) + [1, 2, 3]
        + [UInt8](repeating: 9, count: 7) + [4, 5] + [UInt8](repeating: 9, count: 3)
    #expect(rec.bytes == expected)
}

@Test func duplicatesAreDeliveredOnce() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 1, stream(1..<11), &pool, &rec, &weirds)
    let again = feed(&r, 1, stream(1..<11), &pool, &rec, &weirds)
    #expect(again.deliveredBytes == 0)
    // Partly old, partly new: only the new part.
    feed(&r, 6, stream(6..<16), &pool, &rec, &weirds)
    feed(&r, 31, stream(31..<41), &pool, &rec, &weirds)
    feed(&r, 31, stream(31..<41), &pool, &rec, &weirds)
    #expect(r.bufferedBytes == 10)
    feed(&r, 16, stream(16..<31), &pool, &rec, &weirds)
    #expect(rec.bytes == stream(1..<41))
}

@Test func holesClosedLateDeliverEverythingAfterThem() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 1, stream(1..<5), &pool, &rec, &weirds)
    feed(&r, 10, stream(10..<15), &pool, &rec, &weirds)
    feed(&r, 20, stream(20..<25), &pool, &rec, &weirds)
    feed(&r, 5, stream(5..<10), &pool, &rec, &weirds)
    #expect(rec.bytes == stream(1..<15))
    #expect(r.nextSequence == 15)
    feed(&r, 15, stream(15..<20), &pool, &rec, &weirds)
    #expect(rec.bytes == stream(1..<25))
    #expect(pool.freeBlocks == pool.blockCount)
}

@Test func ackOfUnseenDataIsAGapAndReleasesWhatFollows() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 1, stream(1..<5), &pool, &rec, &weirds)
    feed(&r, 10, stream(10..<15), &pool, &rec, &weirds)
    feed(&r, 30, stream(30..<35), &pool, &rec, &weirds)
    let outcome = r.ackReceived(20, context: established(), pool: &pool, consumer: &rec)
    #expect(rec.events == [.data(stream(1..<5)), .gap(5), .data(stream(10..<15)), .gap(5)])
    #expect(outcome.gapBytes == 10)
    #expect(outcome.missedBytes == 10)
    #expect(outcome.missedGaps == 2)
    #expect(r.hadGap)
    #expect(r.nextSequence == 20)
    #expect(r.trimSequence == 20)
    // The segment above the ack still waits; data below the trim point is dropped.
    #expect(r.bufferedBytes == 5)
    feed(&r, 18, stream(18..<30), &pool, &rec, &weirds, context: established(acknowledged: 20))
    #expect(Array(rec.bytes.suffix(15)) == stream(20..<35))
}

@Test func gapsOutsideCleanStatesAreNotMissedBytes() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    let outcome = r.ackReceived(101, context: established(clean: false), pool: &pool, consumer: &rec)
    #expect(outcome.gapBytes == 100)
    #expect(outcome.missedBytes == 0)
    #expect(outcome.missedGaps == 0)
    #expect(rec.events == [.gap(100)])
}

@Test func ackOfTheFINOctetIsNoGap() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 1, stream(1..<11), &pool, &rec, &weirds)
    var context = established()
    context.finSequence = 12  // 10 data bytes, FIN at 11, FIN_seq one past it
    let withFIN = r.ackReceived(12, context: context, pool: &pool, consumer: &rec)
    #expect(withFIN.gapBytes == 0)
    var other = TCPReassembler()
    feed(&other, 1, stream(1..<11), &pool, &rec, &weirds)
    let withoutFIN = other.ackReceived(12, context: established(), pool: &pool, consumer: &rec)
    #expect(withoutFIN.gapBytes == 1)
}

@Test func partialConnectionIgnoresTheFirstTwoAcks() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var context = established()
    context.isPartial = true
    let outcome = r.ackReceived(2, context: context, pool: &pool, consumer: &rec)
    #expect(outcome.gapBytes == 0)
    #expect(r.nextSequence == 1)
    #expect(r.trimSequence == 2)
}

@Test func perConnectionLimitDropsAndCountsThenTheAckReportsTheGap() {
    var pool = smallPool(perConnection: 12)
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 11, stream(11..<19), &pool, &rec, &weirds)
    let dropped = feed(&r, 21, stream(21..<29), &pool, &rec, &weirds)
    #expect(dropped.droppedPieces == 1)
    #expect(pool.segmentsDroppedConnectionLimit.value == 1)
    #expect(pool.bytesDropped.value == 8)
    #expect(r.bufferedBytes == 8)
    feed(&r, 1, stream(1..<11), &pool, &rec, &weirds)
    let ack = r.ackReceived(29, context: established(), pool: &pool, consumer: &rec)
    #expect(ack.gapBytes == 10)
    #expect(rec.events == [.data(stream(1..<19)), .gap(10)])
}

@Test func fullPoolDropsAndCounts() {
    // Two blocks of 8 bytes for the whole worker.
    var pool = smallPool(bytes: 16, block: 8)
    var a = TCPReassembler()
    var b = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&a, 11, stream(11..<19), &pool, &rec, &weirds)
    feed(&b, 11, stream(11..<19), &pool, &rec, &weirds)
    #expect(pool.freeBlocks == 0)
    let o = feed(&a, 31, stream(31..<32), &pool, &rec, &weirds)
    #expect(o.droppedPieces == 1)
    #expect(pool.segmentsDroppedPoolFull.value == 1)
    #expect(b.release(pool: &pool) == 8)
    #expect(pool.freeBlocks == 1)
    feed(&a, 31, stream(31..<32), &pool, &rec, &weirds)
    #expect(a.bufferedBytes == 9)
}

@Test func dataAboveAHoleWithoutAcksGivesUp() {
    var pool = smallPool(bytes: 1 << 16, block: 512)
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    var context = established()
    context.noDataAcked = true
    feed(&r, 2, stream(2..<10_002), &pool, &rec, &weirds, context: context)
    #expect(weirds.count == 0)
    feed(&r, 10_002, stream(10_002..<16_400), &pool, &rec, &weirds, context: context)
    #expect(weirds.contains("above_hole_data_without_any_acks"))
    #expect(r.skippingDeliveries)
    #expect(pool.freeBlocks == pool.blockCount)
    let later = feed(&r, 1, [0], &pool, &rec, &weirds, context: context)
    #expect(later.deliveredBytes == 0)
    #expect(rec.events.isEmpty)
}

@Test func excessiveUnackedDataGivesUp() {
    var limits = TCPReassemblyLimits()
    limits.excessiveDataWithoutFurtherAcks = 100
    var pool = ReassemblyPool(limits: limits)
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 1, stream(1..<101), &pool, &rec, &weirds)
    #expect(weirds.count == 0)
    // The ack moves the window: another 100 bytes are fine.
    _ = r.ackReceived(101, context: established(), pool: &pool, consumer: &rec)
    feed(&r, 101, stream(101..<201), &pool, &rec, &weirds, context: established(acknowledged: 101))
    #expect(weirds.count == 0)
    feed(&r, 201, stream(201..<202), &pool, &rec, &weirds, context: established(acknowledged: 101))
    #expect(weirds.contains("excessive_data_without_further_acks"))
    #expect(r.skippingDeliveries)
    #expect(rec.bytes == stream(1..<202))
}

@Test func unackedDataBeyondTheInitialWindowIsNotHeldForAcks() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    var context = established()
    context.noDataAcked = true
    context.endpointSize = 100
    feed(&r, 1, stream(1..<101), &pool, &rec, &weirds, context: context)
    #expect(r.trimSequence == 1)
    context.endpointSize = 16_385
    feed(&r, 101, stream(101..<201), &pool, &rec, &weirds, context: context)
    #expect(r.trimSequence == 201)
}

@Test func truncatedPayloadIsAWeirdAndNotReassembled() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    let captured = stream(1..<11)
    let outcome = captured.withUnsafeBytes {
        r.dataSent(
            sequence: 1, payload: $0, length: 20, flags: .ack, context: established(), pool: &pool, consumer: &rec,
            weirds: &weirds)
    }
    #expect(outcome.deliveredBytes == 0)
    #expect(weirds.contains("truncated_tcp_payload"))
    #expect(r.nextSequence == 1)
}

@Test func paddingBeyondThePayloadLengthIsNotDelivered() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    let captured = stream(1..<7) + [0, 0, 0, 0]  // 6 payload bytes + Ethernet padding
    _ = captured.withUnsafeBytes {
        r.dataSent(
            sequence: 1, payload: $0, length: 6, flags: .ack, context: established(), pool: &pool, consumer: &rec,
            weirds: &weirds)
    }
    #expect(rec.bytes == stream(1..<7))
}

@Test func payloadWithRSTIsNotStream() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    let outcome = feed(&r, 1, stream(1..<11), &pool, &rec, &weirds, flags: [.rst, .ack])
    #expect(outcome.deliveredBytes == 0)
    #expect(r.nextSequence == 1)
}

@Test func releaseDiscardsBufferedDataWithoutAGap() {
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    var weirds = WeirdQueue()
    feed(&r, 1, stream(1..<5), &pool, &rec, &weirds)
    feed(&r, 20, stream(20..<40), &pool, &rec, &weirds)
    #expect(r.release(pool: &pool) == 20)
    #expect(pool.undeliveredBytesAtClose.value == 20)
    #expect(pool.freeBlocks == pool.blockCount)
    #expect(rec.events == [.data(stream(1..<5))])
}

/// Every split point of a stream, fed in order and with the later chunk first: the analyzer must
/// see the same bytes, and the pool must be empty afterwards.
@Test func everySplitPointGivesTheSameStream() {
    let data = stream(1..<48)
    var pool = smallPool(block: 5)
    var weirds = WeirdQueue()
    for chunks in SplitFeeder.chunks(of: data) {
        for order in [Array(chunks.indices), Array(chunks.indices.reversed())] {
            var r = TCPReassembler()
            var rec = Recorder()
            for i in order {
                feed(&r, 1 + UInt64(chunks[i].startIndex), Array(chunks[i]), &pool, &rec, &weirds)
            }
            #expect(rec.bytes == data, "chunks \(chunks.map { $0.count }) order \(order.prefix(3))")
            #expect(r.nextSequence == 1 + UInt64(data.count))
        }
        #expect(pool.freeBlocks == pool.blockCount)
    }
    #expect(weirds.count == 0)
}

/// A stream whose sequence numbers wrap past 2^32, through the session state's relative numbers.
@Test func sequenceWraparoundKeepsTheStreamInOrder() {
    var tcp = TCPSessionState()
    var history = ConnectionHistory()
    var weirds = WeirdQueue()
    var pool = smallPool()
    var r = TCPReassembler()
    var rec = Recorder()
    let isn: UInt32 = 0xFFFF_FFF0
    func packet(_ orig: Bool, _ flags: TCPFlags, seq: UInt32, ack: UInt32, len: Int = 0) {
        _ = tcp.process(
            isOriginator: orig, flags: flags, sequence: seq, acknowledgement: ack, payloadLength: len, window: 1000,
            checksumValid: true, history: &history, weirds: &weirds)
    }
    packet(true, .syn, seq: isn, ack: 0)
    packet(false, [.syn, .ack], seq: 1000, ack: isn &+ 1)
    packet(true, .ack, seq: isn &+ 1, ack: 1001)
    // Three 10-byte segments: [isn+1, isn+11) before the wrap, then two after it; the last
    // arrives before the middle one.
    let segments: [(UInt32, [UInt8])] = [
        (isn &+ 1, stream(1..<11)), (isn &+ 21, stream(21..<31)), (isn &+ 11, stream(11..<21)),
    ]
    for (seq, bytes) in segments {
        packet(true, [.ack, .psh], seq: seq, ack: 1001, len: bytes.count)
        let relative = tcp.relativeDataSequence(seq, flags: [.ack, .psh], isOriginator: true)
        #expect(relative == UInt64(seq &- isn))
        feed(&r, relative ?? 0, bytes, &pool, &rec, &weirds, context: tcp.reassemblyContext(isOriginator: true))
    }
    #expect(rec.bytes == stream(1..<31))
    packet(false, .ack, seq: 1001, ack: isn &+ 31)
    let ack = tcp.relativeAcknowledgement(isn &+ 31, ofDataFrom: true)
    #expect(ack == 31)
    let context = tcp.reassemblyContext(isOriginator: true)
    let outcome = r.ackReceived(ack ?? 0, context: context, pool: &pool, consumer: &rec)
    #expect(outcome.gapBytes == 0)
    #expect(r.trimSequence == 31)
}
