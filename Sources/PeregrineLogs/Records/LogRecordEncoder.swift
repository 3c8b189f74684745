// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Encodes one log record into compact, self-contained bytes, column by column.
///
/// A worker keeps one encoder per stream and reuses it: ``reset()`` keeps the buffer, so in steady
/// state encoding allocates nothing. The bytes (``withBytes(_:)``) hold no pointers, so they can be
/// copied through a shared-memory ring to the writer thread, which reads them with
/// ``LogRecordReader`` and formats them there. Nothing is formatted here.
///
/// Values are stored into a buffer that only grows, with one store per field (tag and value
/// together): appending byte by byte to an array cost about 100 instructions per field
/// (callgrind on real-mix.pcap), most of it the array's uniqueness and capacity checks.
///
/// Call one method per column, in schema order. Containers are written as ``beginSet(count:)`` or
/// ``beginVector(count:)`` followed by exactly `count` element values. Debug builds
/// (`PEREGRINE_INTERNAL_CHECKS`) check every call against the schema's column types.
///
/// ```swift
/// var encoder = LogRecordEncoder(schema: tunnelSchema)
/// encoder.reset()
/// encoder.time(ts)
/// encoder.uid(uid, prefix: "C")
/// ...
/// encoder.finish()
/// try writers.write(encoder)
/// ```
public struct LogRecordEncoder {
    /// The schema the record follows.
    public let schema: LogSchema
    /// `storage[0..<length]` is the encoded record so far; the rest is spare room.
    private var storage: [UInt8]
    /// Bytes encoded so far.
    public private(set) var length = 0

    /// A copy of the encoded record (for tests and inspection; writers use ``withBytes(_:)``).
    public var bytes: [UInt8] { Array(storage[0..<length]) }

    /// Calls `body` with the encoded record, borrowed for the call.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    #if PEREGRINE_INTERNAL_CHECKS
    /// The next top-level column to be written.
    private var column = 0
    /// Elements still expected in the open container.
    private var pendingElements = 0
    /// The element type of the open container.
    private var elementType: LogFieldType = .string
    #endif

    /// Creates an encoder with room for `capacity` bytes before the buffer first grows.
    public init(schema: LogSchema, capacity: Int = 512) {
        self.schema = schema
        storage = [UInt8](repeating: 0, count: max(capacity, 64))
    }

    /// Starts a new record, keeping the buffer.
    public mutating func reset() {
        length = 0
        #if PEREGRINE_INTERNAL_CHECKS
        column = 0
        pendingElements = 0
        #endif
    }

    /// Ends the record; debug builds check that every column was written.
    public func finish() {
        #if PEREGRINE_INTERNAL_CHECKS
        precondition(
            column == schema.columns.count && pendingElements == 0,
            "\(schema.path): record has \(column) of \(schema.columns.count) columns"
        )
        #endif
    }

    // MARK: Scalars

    /// Writes a `time` value.
    public mutating func time(_ value: Timestamp) {
        check(.time)
        store(.time, UInt64(bitPattern: value.nanoseconds))
    }

    /// Writes an `interval` value.
    public mutating func interval(_ value: Interval) {
        check(.interval)
        store(.interval, UInt64(bitPattern: value.nanoseconds))
    }

    /// Writes a `double` value.
    public mutating func double(_ value: Double) {
        check(.double)
        store(.double, value.bitPattern)
    }

    /// Writes a `count` value.
    public mutating func count(_ value: UInt64) {
        check(.count)
        store(.count, value)
    }

    /// Writes an `int` value.
    public mutating func int(_ value: Int64) {
        check(.int)
        store(.int, UInt64(bitPattern: value))
    }

    /// Writes a `port` value (the number only; Zeek logs the protocol in its own column).
    public mutating func port(_ value: UInt16) {
        check(.port)
        reserve(3)
        storage.withUnsafeMutableBytes { p in
            p[length] = LogValueTag.port.rawValue
            p.storeBytes(of: value.littleEndian, toByteOffset: length &+ 1, as: UInt16.self)
        }
        length &+= 3
    }

    /// Writes a `bool` value.
    public mutating func bool(_ value: Bool) {
        check(.bool)
        tag(value ? .boolTrue : .boolFalse)
    }

    /// Writes an `addr` value.
    public mutating func addr(_ value: IPAddress) {
        check(.addr)
        reserve(17)
        storage.withUnsafeMutableBytes { p in
            p[length] = LogValueTag.addr.rawValue
            p.storeBytes(of: value.high.littleEndian, toByteOffset: length &+ 1, as: UInt64.self)
            p.storeBytes(of: value.low.littleEndian, toByteOffset: length &+ 9, as: UInt64.self)
        }
        length &+= 17
    }

    /// Writes a `subnet` value.
    public mutating func subnet(_ value: IPSubnet) {
        check(.subnet)
        reserve(18)
        storage.withUnsafeMutableBytes { p in
            p[length] = LogValueTag.subnet.rawValue
            p.storeBytes(of: value.network.high.littleEndian, toByteOffset: length &+ 1, as: UInt64.self)
            p.storeBytes(of: value.network.low.littleEndian, toByteOffset: length &+ 9, as: UInt64.self)
            p[length &+ 17] = UInt8(truncatingIfNeeded: value.length128)
        }
        length &+= 18
    }

    /// Writes a `string` value from raw bytes (any bytes; escaping happens when formatting).
    public mutating func string(_ value: UnsafeRawBufferPointer) {
        check(.string)
        appendBytes(.string, value)
    }

    /// Writes a `string` value from a literal.
    public mutating func string(_ value: StaticString) {
        check(.string)
        value.withUTF8Buffer { appendBytes(.string, UnsafeRawBufferPointer($0)) }
    }

    /// Writes a `string` value.
    public mutating func string(_ value: String) {
        check(.string)
        var value = value
        value.withUTF8 { appendBytes(.string, UnsafeRawBufferPointer($0)) }
    }

    /// Writes an `enum` value: the identifier as Zeek spells it (`tcp`, `Tunnel::VXLAN`).
    public mutating func enumValue(_ value: StaticString) {
        check(.enum)
        value.withUTF8Buffer { appendBytes(.enumValue, UnsafeRawBufferPointer($0)) }
    }

    /// Writes a uid (`string` column) as its bits; the text is made by the formatter.
    ///
    /// - Parameters:
    ///   - value: the identifier.
    ///   - prefix: `C` for connections, `F` for files.
    public mutating func uid(_ value: ConnectionUID, prefix: Unicode.Scalar = "C") {
        check(.string)
        reserve(18)
        storage.withUnsafeMutableBytes { p in
            p[length] = LogValueTag.uid.rawValue
            p[length &+ 1] = UInt8(truncatingIfNeeded: prefix.value)
            p.storeBytes(of: value.word0.littleEndian, toByteOffset: length &+ 2, as: UInt64.self)
            p.storeBytes(of: value.word1.littleEndian, toByteOffset: length &+ 10, as: UInt64.self)
        }
        length &+= 18
    }

    /// Writes the unset marker for an optional column (or a missing vector element).
    public mutating func unset() {
        #if PEREGRINE_INTERNAL_CHECKS
        if pendingElements > 0 {
            pendingElements -= 1
        } else {
            precondition(column < schema.columns.count, "\(schema.path): too many columns")
            column += 1
        }
        #endif
        tag(.unset)
    }

    // MARK: Containers

    /// Starts a `set[T]` column; exactly `count` element values must follow.
    public mutating func beginSet(count: Int) {
        checkContainer(isSet: true, count: count)
        tag(.set)
        appendLength(count)
    }

    /// Starts a `vector[T]` column; exactly `count` element values must follow.
    public mutating func beginVector(count: Int) {
        checkContainer(isSet: false, count: count)
        tag(.vector)
        appendLength(count)
    }

    // MARK: Internals

    /// Makes room for `count` more bytes (the buffer at least doubles, so growth is rare).
    @inline(__always)
    private mutating func reserve(_ count: Int) {
        if length &+ count > storage.count { grow(count) }
    }

    private mutating func grow(_ count: Int) {
        storage.append(contentsOf: repeatElement(0, count: Swift.max(storage.count, count)))
    }

    @inline(__always)
    private mutating func tag(_ tag: LogValueTag) {
        reserve(1)
        storage[length] = tag.rawValue
        length &+= 1
    }

    /// Stores a tag and an 8-byte value in one go.
    @inline(__always)
    private mutating func store(_ tag: LogValueTag, _ value: UInt64) {
        reserve(9)
        storage.withUnsafeMutableBytes { p in
            p[length] = tag.rawValue
            p.storeBytes(of: value.littleEndian, toByteOffset: length &+ 1, as: UInt64.self)
        }
        length &+= 9
    }

    private mutating func appendLength(_ count: Int) {
        precondition(count >= 0 && count <= Int(UInt32.max), "log value too long: \(count)")
        reserve(4)
        storage.withUnsafeMutableBytes { p in
            p.storeBytes(of: UInt32(count).littleEndian, toByteOffset: length, as: UInt32.self)
        }
        length &+= 4
    }

    private mutating func appendBytes(_ tag: LogValueTag, _ value: UnsafeRawBufferPointer) {
        reserve(5 &+ value.count)
        self.tag(tag)
        appendLength(value.count)
        if let source = value.baseAddress, value.count > 0 {
            storage.withUnsafeMutableBytes { p in
                // `storage` is never empty (at least 64 bytes), so it has a base address.
                (p.baseAddress.unsafelyUnwrapped + length).copyMemory(from: source, byteCount: value.count)
            }
            length &+= value.count
        }
    }

    /// Debug check that a scalar of `type` is what the schema expects next.
    @inline(__always)
    private mutating func check(_ type: LogFieldType) {
        #if PEREGRINE_INTERNAL_CHECKS
        if pendingElements > 0 {
            precondition(elementType == type, "\(schema.path): element is \(type.zeekName), expected \(elementType.zeekName)")
            pendingElements -= 1
            return
        }
        precondition(column < schema.columns.count, "\(schema.path): too many columns")
        let expected = schema.columns[column].type
        precondition(
            expected == type,
            "\(schema.path): column \(schema.columns[column].name) is \(expected.zeekName), got \(type.zeekName)"
        )
        column += 1
        #endif
    }

    private mutating func checkContainer(isSet: Bool, count: Int) {
        #if PEREGRINE_INTERNAL_CHECKS
        precondition(pendingElements == 0, "\(schema.path): containers do not nest in logs")
        precondition(column < schema.columns.count, "\(schema.path): too many columns")
        switch (schema.columns[column].type, isSet) {
        case (.set(let element), true), (.vector(let element), false):
            elementType = element
        default:
            preconditionFailure("\(schema.path): column \(schema.columns[column].name) is not a \(isSet ? "set" : "vector")")
        }
        column += 1
        pendingElements = count
        #endif
    }
}
