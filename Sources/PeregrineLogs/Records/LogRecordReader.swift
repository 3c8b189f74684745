// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One decoded value of a record. Byte payloads point into the record being read and are valid only
/// while those bytes are.
public enum LogValue {
    /// An unset optional column or vector element.
    case unset
    /// A `time` value.
    case time(Timestamp)
    /// An `interval` value.
    case interval(Interval)
    /// A `double` value.
    case double(Double)
    /// A `count` value.
    case count(UInt64)
    /// An `int` value.
    case int(Int64)
    /// A `port` value.
    case port(UInt16)
    /// A `bool` value.
    case bool(Bool)
    /// An `addr` value.
    case addr(IPAddress)
    /// A `subnet` value: the network and its prefix length in the 128-bit form.
    case subnet(IPAddress, length128: UInt8)
    /// A `string` value's raw bytes.
    case string(UnsafeRawBufferPointer)
    /// An `enum` identifier's bytes.
    case enumValue(UnsafeRawBufferPointer)
    /// A uid and its prefix byte (`C`, `F`).
    case uid(ConnectionUID, prefix: UInt8)
    /// A set of `count` elements; the elements are the next `count` values.
    case set(count: Int)
    /// A vector of `count` elements; the elements are the next `count` values.
    case vector(count: Int)
}

/// Reads the values of a record made by ``LogRecordEncoder``, in order.
///
/// The reader trusts its input to come from an encoder of this process (the log ring carries nothing
/// else); a malformed record stops the process rather than being misread.
public struct LogRecordReader {
    private let base: UnsafeRawBufferPointer
    private var offset = 0

    /// Creates a reader over the bytes of one record.
    public init(_ record: UnsafeRawBufferPointer) { base = record }

    /// True when every value has been read.
    public var isAtEnd: Bool { offset >= base.count }

    /// The next value, or `nil` at the end of the record.
    public mutating func next() -> LogValue? {
        guard offset < base.count else { return nil }
        guard let tag = LogValueTag(rawValue: base[offset]) else {
            preconditionFailure("corrupt log record: tag \(base[offset]) at \(offset)")
        }
        offset += 1
        switch tag {
        case .unset: return .unset
        case .time: return .time(Timestamp(nanoseconds: Int64(bitPattern: word())))
        case .interval: return .interval(Interval(nanoseconds: Int64(bitPattern: word())))
        case .double: return .double(Double(bitPattern: word()))
        case .count: return .count(word())
        case .int: return .int(Int64(bitPattern: word()))
        case .port:
            need(2)
            let value = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            offset += 2
            return .port(value)
        case .boolFalse: return .bool(false)
        case .boolTrue: return .bool(true)
        case .addr:
            let high = word()
            return .addr(IPAddress(high: high, low: word()))
        case .subnet:
            let high = word()
            let low = word()
            need(1)
            let length = base[offset]
            offset += 1
            return .subnet(IPAddress(high: high, low: low), length128: length)
        case .string: return .string(payload())
        case .enumValue: return .enumValue(payload())
        case .uid:
            need(1)
            let prefix = base[offset]
            offset += 1
            let word0 = word()
            return .uid(ConnectionUID(word0: word0, word1: word()), prefix: prefix)
        case .set: return .set(count: length())
        case .vector: return .vector(count: length())
        }
    }

    @inline(__always)
    private func need(_ n: Int) {
        precondition(base.count - offset >= n, "truncated log record")
    }

    @inline(__always)
    private mutating func word() -> UInt64 {
        need(8)
        let value = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
        return value
    }

    @inline(__always)
    private mutating func length() -> Int {
        need(4)
        let value = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset += 4
        return Int(value)
    }

    private mutating func payload() -> UnsafeRawBufferPointer {
        let n = length()
        need(n)
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<offset + n])
        offset += n
        return slice
    }
}
