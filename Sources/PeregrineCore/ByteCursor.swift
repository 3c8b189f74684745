// SPDX-License-Identifier: Apache-2.0

/// A bounds-checked reader over borrowed bytes.
///
/// `get…(at:)` reads without moving and returns `nil` past the end; `read…()` advances only when
/// the read succeeds (swift-nio `ByteBuffer-int.swift`, xdp-tutorial `parsing_helpers.h`). Integers
/// are network byte order. The cursor never owns memory: the bytes must outlive it.
@frozen
public struct ByteCursor {
    /// The bytes being read.
    public let base: UnsafeRawBufferPointer
    /// Offset of the next `read`.
    public var offset: Int

    @inlinable
    public init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    /// Bytes left after `offset`.
    @inlinable
    public var remaining: Int { base.count &- offset }

    @inlinable
    public func getUInt8(at position: Int) -> UInt8? {
        guard position >= 0, position < base.count else { return nil }
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    @inlinable
    public func getUInt16(at position: Int) -> UInt16? {
        guard position >= 0, position &+ 2 <= base.count, let p = base.baseAddress else { return nil }
        return UInt16(bigEndian: p.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    @inlinable
    public func getUInt32(at position: Int) -> UInt32? {
        guard position >= 0, position &+ 4 <= base.count, let p = base.baseAddress else { return nil }
        return UInt32(bigEndian: p.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    @inlinable
    public mutating func readUInt8() -> UInt8? {
        guard let v = getUInt8(at: offset) else { return nil }
        offset &+= 1
        return v
    }

    @inlinable
    public mutating func readUInt16() -> UInt16? {
        guard let v = getUInt16(at: offset) else { return nil }
        offset &+= 2
        return v
    }

    @inlinable
    public mutating func readUInt32() -> UInt32? {
        guard let v = getUInt32(at: offset) else { return nil }
        offset &+= 4
        return v
    }

    /// Advances by `count` bytes if that many remain.
    @inlinable
    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= remaining else { return false }
        offset &+= count
        return true
    }
}
