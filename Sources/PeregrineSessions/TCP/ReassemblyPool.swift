// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One worker's store for out-of-order TCP data: fixed-size blocks carved from one region
/// allocated when the worker starts, plus the descriptors of the buffered segments.
///
/// Nothing here allocates after `init`. A buffered segment is a descriptor (relative sequence
/// number, length, first block, next segment of the same connection) and a chain of blocks; both
/// come from free lists, so taking and returning them is O(blocks). Each segment uses at least
/// one block, so there are as many descriptors as blocks and a descriptor is never the limit.
///
/// The pool is non-copyable: exactly one worker owns it and passes it `inout` to the
/// ``TCPReassembler`` calls, so no reference counting happens on the packet path.
///
/// Counters (dotted names as published in stats): `tcp_reassembly.buffered_bytes` (now),
/// `tcp_reassembly.peak_buffered_bytes`, `tcp_reassembly.segments_dropped_pool_full`,
/// `tcp_reassembly.segments_dropped_connection_limit`, `tcp_reassembly.bytes_dropped`,
/// `tcp_reassembly.undelivered_bytes_at_close`, `tcp_reassembly.rexmit_inconsistencies`.
public struct ReassemblyPool: ~Copyable {
    /// The limits this pool was built with (also read by ``TCPReassembler``).
    public let limits: TCPReassemblyLimits
    /// Bytes per block.
    public let blockSize: Int
    /// Number of blocks (and of segment descriptors).
    public let blockCount: Int
    @usableFromInline let storage: UnsafeMutableRawPointer
    /// Next block in a segment's chain or in the free list; -1 ends a chain.
    @usableFromInline let blockNext: UnsafeMutablePointer<Int32>
    @usableFromInline let segments: UnsafeMutablePointer<BufferedSegment>
    @usableFromInline var freeBlockHead: Int32
    @usableFromInline var freeSegmentHead: Int32
    @usableFromInline var freeBlockCount: Int

    /// Data bytes held now.
    public var bufferedBytes = Counter("tcp_reassembly.buffered_bytes")
    /// Highest ``bufferedBytes`` seen.
    public var peakBufferedBytes = Counter("tcp_reassembly.peak_buffered_bytes")
    /// Out-of-order pieces dropped because the pool had too few free blocks.
    public var segmentsDroppedPoolFull = Counter("tcp_reassembly.segments_dropped_pool_full")
    /// Out-of-order pieces dropped because their connection reached
    /// ``TCPReassemblyLimits/maxBufferedBytesPerConnection``.
    public var segmentsDroppedConnectionLimit = Counter("tcp_reassembly.segments_dropped_connection_limit")
    /// Payload bytes of the dropped pieces.
    public var bytesDropped = Counter("tcp_reassembly.bytes_dropped")
    /// Bytes still waiting above a hole when their connection was released.
    public var undeliveredBytesAtClose = Counter("tcp_reassembly.undelivered_bytes_at_close")
    /// Retransmissions whose bytes differed from the buffered copy (Zeek's `rexmit_inconsistency`).
    public var rexmitInconsistencies = Counter("tcp_reassembly.rexmit_inconsistencies")

    /// Allocates the whole pool: `limits.poolCapacityBytes` rounded down to whole blocks.
    public init(limits: TCPReassemblyLimits = TCPReassemblyLimits()) {
        precondition(limits.blockSize > 0, "TCP reassembly block size must be positive")
        let count = min(limits.poolCapacityBytes / limits.blockSize, Int(Int32.max))
        self.limits = limits
        blockSize = limits.blockSize
        blockCount = count
        storage = .allocate(byteCount: max(count * limits.blockSize, 1), alignment: 64)
        blockNext = .allocate(capacity: max(count, 1))
        segments = .allocate(capacity: max(count, 1))
        for i in 0..<count {
            blockNext[i] = i + 1 < count ? Int32(i + 1) : -1
            segments.advanced(by: i).initialize(
                to: BufferedSegment(sequence: 0, length: 0, firstBlock: -1, next: i + 1 < count ? Int32(i + 1) : -1))
        }
        freeBlockHead = count > 0 ? 0 : -1
        freeSegmentHead = count > 0 ? 0 : -1
        freeBlockCount = count
    }

    /// Blocks currently free.
    public var freeBlocks: Int { freeBlockCount }

    deinit {
        storage.deallocate()
        blockNext.deallocate()
        segments.deallocate()
    }

    /// Blocks needed for `length` bytes.
    @inlinable
    func blocksNeeded(_ length: Int) -> Int { (length + blockSize - 1) / blockSize }

    /// Copies `bytes` into a new segment at relative sequence `sequence`; nil when the pool has
    /// too few free blocks (nothing is taken then).
    @inlinable
    mutating func store(sequence: UInt64, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        let needed = blocksNeeded(bytes.count)
        guard needed > 0, needed <= freeBlockCount, let base = bytes.baseAddress else { return nil }
        let first = freeBlockHead
        var block = first
        var copied = 0
        var last = first
        while copied < bytes.count {
            let n = min(blockSize, bytes.count - copied)
            (storage + Int(block) * blockSize).copyMemory(from: base + copied, byteCount: n)
            copied += n
            last = block
            block = blockNext[Int(block)]
        }
        freeBlockHead = block
        blockNext[Int(last)] = -1
        freeBlockCount -= needed
        let index = freeSegmentHead
        assert(index >= 0, "a free block guarantees a free segment descriptor")
        freeSegmentHead = segments[Int(index)].next
        segments[Int(index)] = BufferedSegment(
            sequence: sequence, length: UInt32(bytes.count), firstBlock: first, next: -1)
        bufferedBytes.increment(by: UInt64(bytes.count))
        if bufferedBytes.value > peakBufferedBytes.value { peakBufferedBytes.value = bufferedBytes.value }
        return index
    }

    /// Returns segment `index` and its blocks to the free lists.
    @inlinable
    mutating func release(_ index: Int32) {
        let segment = segments[Int(index)]
        var block = segment.firstBlock
        while block >= 0 {
            let next = blockNext[Int(block)]
            blockNext[Int(block)] = freeBlockHead
            freeBlockHead = block
            freeBlockCount += 1
            block = next
        }
        bufferedBytes.value -= UInt64(segment.length)
        segments[Int(index)] = BufferedSegment(sequence: 0, length: 0, firstBlock: -1, next: freeSegmentHead)
        freeSegmentHead = index
    }

    /// The descriptor of segment `index`.
    @inlinable
    subscript(index: Int32) -> BufferedSegment {
        get { segments[Int(index)] }
        nonmutating set { segments[Int(index)] = newValue }
    }

    /// Calls `body` with the bytes of segment `index` in order, one block at a time, starting
    /// `offset` bytes into the segment.
    @inlinable
    func forEachChunk(of index: Int32, from offset: Int = 0, _ body: (UnsafeRawBufferPointer) -> Void) {
        let segment = segments[Int(index)]
        var block = segment.firstBlock
        var start = 0
        let length = Int(segment.length)
        while block >= 0 && start < length {
            let n = min(blockSize, length - start)
            if start + n > offset {
                let skip = max(offset - start, 0)
                body(UnsafeRawBufferPointer(start: storage + Int(block) * blockSize + skip, count: n - skip))
            }
            start += n
            block = blockNext[Int(block)]
        }
    }

    /// True when the first `other.count` bytes of segment `index` from `offset` equal `other`.
    @inlinable
    func matches(_ index: Int32, offset: Int, _ other: UnsafeRawBufferPointer) -> Bool {
        guard let base = other.baseAddress else { return true }
        var compared = 0
        var equal = true
        forEachChunk(of: index, from: offset) { chunk in
            guard equal, compared < other.count, let chunkBase = chunk.baseAddress else { return }
            let n = min(chunk.count, other.count - compared)
            var i = 0
            while i < n {
                let mine = chunkBase.load(fromByteOffset: i, as: UInt8.self)
                if mine != base.load(fromByteOffset: compared + i, as: UInt8.self) {
                    equal = false
                    break
                }
                i += 1
            }
            compared += n
        }
        return equal
    }
}

/// One buffered out-of-order piece of a TCP stream: `[sequence, sequence + length)` in the
/// connection direction's relative sequence space, stored in a chain of pool blocks.
@frozen
public struct BufferedSegment: Sendable {
    /// Relative sequence number of the first byte.
    public var sequence: UInt64
    /// Bytes held.
    public var length: UInt32
    @usableFromInline var firstBlock: Int32
    /// Next segment of the same connection direction (sorted by sequence), or of the free list.
    @usableFromInline var next: Int32

    @inlinable
    init(sequence: UInt64, length: UInt32, firstBlock: Int32, next: Int32) {
        self.sequence = sequence
        self.length = length
        self.firstBlock = firstBlock
        self.next = next
    }

    /// Relative sequence number one past the last byte.
    @inlinable public var upper: UInt64 { sequence &+ UInt64(length) }
}
