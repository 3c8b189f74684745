// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Encodes one log record into compact, self-contained bytes, column by column.
///
/// A worker keeps one encoder per stream and reuses it: ``reset()`` keeps the buffer's capacity, so
/// in steady state encoding allocates nothing. The bytes (``bytes``) hold no pointers, so they can be
/// copied through a shared-memory ring to the writer thread, which reads them with
/// ``LogRecordReader`` and formats them there. Nothing is formatted here.
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
    /// The encoded record so far; complete after ``finish()``.
    public private(set) var bytes: [UInt8]

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
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Starts a new record, keeping the buffer's capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
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
        tag(.time)
        append(UInt64(bitPattern: value.nanoseconds))
    }

    /// Writes an `interval` value.
    public mutating func interval(_ value: Interval) {
        check(.interval)
        tag(.interval)
        append(UInt64(bitPattern: value.nanoseconds))
    }

    /// Writes a `double` value.
    public mutating func double(_ value: Double) {
        check(.double)
        tag(.double)
        append(value.bitPattern)
    }

    /// Writes a `count` value.
    public mutating func count(_ value: UInt64) {
        check(.count)
        tag(.count)
        append(value)
    }

    /// Writes an `int` value.
    public mutating func int(_ value: Int64) {
        check(.int)
        tag(.int)
        append(UInt64(bitPattern: value))
    }

    /// Writes a `port` value (the number only; Zeek logs the protocol in its own column).
    public mutating func port(_ value: UInt16) {
        check(.port)
        tag(.port)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Writes a `bool` value.
    public mutating func bool(_ value: Bool) {
        check(.bool)
        tag(value ? .boolTrue : .boolFalse)
    }

    /// Writes an `addr` value.
    public mutating func addr(_ value: IPAddress) {
        check(.addr)
        tag(.addr)
        append(value.high)
        append(value.low)
    }

    /// Writes a `subnet` value.
    public mutating func subnet(_ value: IPSubnet) {
        check(.subnet)
        tag(.subnet)
        append(value.network.high)
        append(value.network.low)
        bytes.append(UInt8(truncatingIfNeeded: value.length128))
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
        tag(.uid)
        bytes.append(UInt8(truncatingIfNeeded: prefix.value))
        append(value.word0)
        append(value.word1)
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

    @inline(__always)
    private mutating func tag(_ tag: LogValueTag) { bytes.append(tag.rawValue) }

    @inline(__always)
    private mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendLength(_ length: Int) {
        precondition(length >= 0 && length <= Int(UInt32.max), "log value too long: \(length)")
        withUnsafeBytes(of: UInt32(length).littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendBytes(_ tag: LogValueTag, _ value: UnsafeRawBufferPointer) {
        self.tag(tag)
        appendLength(value.count)
        bytes.append(contentsOf: value)
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
