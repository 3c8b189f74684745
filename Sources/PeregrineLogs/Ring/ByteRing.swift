// SPDX-License-Identifier: Apache-2.0
//
// The one structure that crosses threads on the packet path: a worker's log records go to the
// writer thread through it, and offline frames go from the reader to each worker through it
// (architecture.md, "Data flow"). Everything else a thread owns alone.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A bounded single-producer, single-consumer ring of variable-length records.
///
/// Each record is an 8-byte header (payload length, a 32-bit tag the user chooses) followed by the
/// payload, padded to 8 bytes, so every header is aligned. A record that does not fit before the
/// end of the buffer is preceded by a wrap marker filling the rest, and starts again at offset 0:
/// a record is always contiguous, and the consumer hands it out as one buffer. Positions are byte
/// counts that only grow (`Int` wraps after 2^63 bytes, far beyond any run).
///
/// The producer publishes `tail` with a release store after the record's bytes are written, and
/// the consumer reads `tail` with an acquire load, so a record is visible whole or not at all;
/// the consumer publishes `head` (release) only after it is done with the records it passes, so
/// the producer (acquire) never overwrites a record being read. `head` and `tail` sit on separate
/// cache lines, each with its owner's private state, and each side caches the other's position
/// to touch the shared line only when its cached view says the ring is full or empty (the
/// Rigtorp/snabb `link` design).
///
/// A full ring makes the producer wait (spin, then yield, then sleep), never drop: architecture.md
/// rule 3. Each write that had to wait is counted in ``fullWaits``.
public final class ByteRing: @unchecked Sendable {
    /// Size of the buffer in bytes (a power of two).
    public let capacity: Int
    /// The largest payload ``write(tag:length:_:)`` accepts: a record and a wrap marker always fit.
    public let maxPayload: Int
    private let mask: Int
    private let storage: UnsafeMutableRawPointer

    // Consumer's cache line: the shared head and what only the consumer touches.
    private let head = Atomic<Int>(0)
    private var consumerHead = 0
    private var consumerCachedTail = 0
    private let padding0: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    // Producer's cache line.
    private let tail = Atomic<Int>(0)
    private var producerTail = 0
    private var producerCachedHead = 0
    private let padding1: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private let closed = Atomic<Bool>(false)
    private let waits = Atomic<UInt64>(0)

    /// Header tag that marks the rest of the buffer as skipped; not available to users.
    static let wrapTag: UInt32 = 0xFFFF_FFFF
    static let headerSize = 8

    /// Creates an empty ring.
    /// - Parameter capacity: buffer bytes, rounded up to a power of two (at least 4 KiB).
    public init(capacity: Int) {
        var size = 4096
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        maxPayload = size / 2 - Self.headerSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    deinit {
        storage.deallocate()
    }

    /// Writes that found the ring full and waited for the consumer (`log.ring_full_waits`).
    public var fullWaits: UInt64 { waits.load(ordering: .relaxed) }

    // MARK: - Producer

    /// Appends one record, waiting while the ring is full. Producer thread only.
    ///
    /// - Parameters:
    ///   - tag: any value but `0xFFFFFFFF`, handed back to the consumer with the record.
    ///   - length: payload bytes, at most ``maxPayload``.
    ///   - fill: writes exactly the payload into the buffer it is given.
    @inline(__always)
    public func write(tag: UInt32, length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(length <= maxPayload && tag != Self.wrapTag, "record too large for the ring or reserved tag")
        let need = Self.headerSize + (length + 7) & ~7
        var position = producerTail
        let toEnd = capacity - (position & mask)
        let total = toEnd < need ? toEnd + need : need
        if total > capacity - (position - producerCachedHead) {
            producerCachedHead = head.load(ordering: .acquiring)
            if total > capacity - (position - producerCachedHead) { waitForSpace(total, position: position) }
        }
        if toEnd < need {
            storage.storeBytes(of: Self.wrapTag, toByteOffset: (position & mask) + 4, as: UInt32.self)
            position += toEnd
        }
        let offset = position & mask
        storage.storeBytes(of: UInt32(length), toByteOffset: offset, as: UInt32.self)
        storage.storeBytes(of: tag, toByteOffset: offset + 4, as: UInt32.self)
        fill(UnsafeMutableRawBufferPointer(start: storage + offset + Self.headerSize, count: length))
        producerTail = position + need
        tail.store(producerTail, ordering: .releasing)
    }

    /// Appends one record whose payload is `bytes`.
    @inline(__always)
    public func write(tag: UInt32, bytes: UnsafeRawBufferPointer) {
        write(tag: tag, length: bytes.count) { $0.copyMemory(from: bytes) }
    }

    @inline(never)
    private func waitForSpace(_ total: Int, position: Int) {
        waits.add(1, ordering: .relaxed)
        var rounds = 0
        while true {
            producerCachedHead = head.load(ordering: .acquiring)
            if total <= capacity - (position - producerCachedHead) { return }
            Self.backOff(&rounds)
        }
    }

    /// Whether the consumer has finished with every record written so far. Producer thread only.
    public var isDrained: Bool { head.load(ordering: .acquiring) == producerTail }

    /// Says that no more records will come; the consumer sees ``isFinished`` once it drained them.
    public func close() {
        closed.store(true, ordering: .releasing)
    }

    // MARK: - Consumer

    /// Hands every record published so far (up to `limit`) to `body`, then frees their space in
    /// one step. Consumer thread only.
    /// - Returns: the number of records handed out.
    @inline(__always)
    @discardableResult
    public func drain(limit: Int = .max, _ body: (_ tag: UInt32, _ payload: UnsafeRawBufferPointer) -> Void) -> Int {
        var position = consumerHead
        if position == consumerCachedTail {
            consumerCachedTail = tail.load(ordering: .acquiring)
            if position == consumerCachedTail { return 0 }
        }
        let end = consumerCachedTail
        var count = 0
        while position != end && count < limit {
            let offset = position & mask
            let tag = storage.load(fromByteOffset: offset + 4, as: UInt32.self)
            if tag == Self.wrapTag {
                position += capacity - offset
                continue
            }
            let length = Int(storage.load(fromByteOffset: offset, as: UInt32.self))
            body(tag, UnsafeRawBufferPointer(start: storage + offset + Self.headerSize, count: length))
            position += Self.headerSize + (length + 7) & ~7
            count += 1
        }
        consumerHead = position
        head.store(position, ordering: .releasing)
        return count
    }

    /// True once the producer closed the ring and every record was drained. Consumer thread only.
    public var isFinished: Bool {
        // `closed` first: records published before `close()` are then visible in `tail`.
        guard closed.load(ordering: .acquiring) else { return false }
        return tail.load(ordering: .acquiring) == consumerHead
    }

    /// One step of the wait used by both sides when the other is behind: spin briefly, then give
    /// the CPU away (`sched_yield`), then sleep 50 µs, so a waiting thread costs little when the
    /// other side is descheduled on a box with fewer cores than threads.
    /// - Parameter rounds: the caller's count of steps so far; reset it when work arrives.
    @inline(never)
    public static func backOff(_ rounds: inout Int) {
        rounds += 1
        if rounds < 64 {
            return
        } else if rounds < 128 {
            sched_yield()
        } else {
            var request = timespec(tv_sec: 0, tv_nsec: 50_000)
            _ = nanosleep(&request, nil)
        }
    }
}
