// SPDX-License-Identifier: Apache-2.0

/// All log files of one run: the formatter choice, the log directory and one ``LogFileWriter`` per
/// stream, found by stream id. It lives on the writer thread, which drains the workers' rings into
/// ``write(streamID:record:)``.
///
/// Streams can be disabled (the configuration file's `logs.disabled`, Zeek's `Log::disable_stream`):
/// their records are dropped here, before formatting, and their files never created. The filter sits
/// on the writer side so that the workers stay unchanged; a worker still encodes a disabled stream's
/// records and ships them through its ring. A check in the policy code before encoding would save
/// that work and ring space, and is the better place once the stream policies take the setting.
public struct LogWriterSet {
    /// The directory the logs go to.
    public let directory: String
    /// The output options.
    public let options: LogOptions
    /// The paths of the streams whose records are dropped.
    public private(set) var disabledPaths: Set<String>

    private let schemas: [LogSchema]
    private let makeWriter: (LogSchema, Bool) -> LogFileWriter
    private var writers: [LogFileWriter?]
    /// By stream id: whether the stream is disabled.
    private var disabled: [Bool]

    /// Creates the set; no file is created until a stream's first record.
    ///
    /// - Parameters:
    ///   - directory: the log directory (the current directory for `peregrine -r`).
    ///   - schemas: every stream that may log; ids must be distinct.
    ///   - options: TSV or JSON and the JSON options.
    ///   - disabledPaths: paths of streams not to write (each must name one of `schemas`).
    ///   - bufferCapacity: bytes buffered per file before a `write(2)`.
    ///   - clock: the wall clock for `#open`/`#close`, epoch seconds.
    public init(
        directory: String,
        schemas: [LogSchema],
        options: LogOptions = LogOptions(),
        disabledPaths: Set<String> = [],
        bufferCapacity: Int = 64 * 1024,
        clock: @escaping () -> Int = WallClock.now
    ) {
        self.directory = directory
        self.options = options
        self.disabledPaths = disabledPaths
        self.schemas = schemas
        let formatter = LogFormatter(options: options)
        makeWriter = { schema, appending in
            LogFileWriter(
                schema: schema, directory: directory, formatter: formatter, bufferCapacity: bufferCapacity,
                clock: clock, appending: appending)
        }
        let size = (schemas.map { Int($0.id) }.max() ?? -1) + 1
        writers = Array(repeating: nil, count: size)
        disabled = Array(repeating: false, count: size)
        for path in disabledPaths {
            precondition(schemas.contains { $0.path == path }, "disabled log stream '\(path)' is not a stream")
        }
        for schema in schemas {
            precondition(
                writers[Int(schema.id)] == nil && !disabled[Int(schema.id)],
                "duplicate log stream id \(schema.id) (\(schema.path))")
            if disabledPaths.contains(schema.path) {
                disabled[Int(schema.id)] = true
                continue
            }
            writers[Int(schema.id)] = makeWriter(schema, false)
        }
    }

    /// Changes which streams are disabled (a reloaded configuration): a stream disabled now ends
    /// its file as ``LogFileWriter/close()`` does; one enabled now starts a file with its next
    /// record, appended to what the file holds. Each path must name a stream.
    /// - Throws: the first ``LogWriterError`` of the files ended; the change is made either way.
    public mutating func setDisabledPaths(_ paths: Set<String>) throws(LogWriterError) {
        for path in paths {
            precondition(schemas.contains { $0.path == path }, "disabled log stream '\(path)' is not a stream")
        }
        var first: LogWriterError?
        for schema in schemas {
            let index = Int(schema.id)
            let disable = paths.contains(schema.path)
            guard disable != disabled[index] else { continue }
            disabled[index] = disable
            if disable {
                do throws(LogWriterError) {
                    try writers[index]?.close()
                } catch {
                    if first == nil { first = error }
                }
                lostBeforeDisabling &+= writers[index]?.lostRecords ?? 0
                bytesBeforeDisabling &+= writers[index]?.bytesWritten ?? 0
                writers[index] = nil
            } else {
                writers[index] = makeWriter(schema, true)
            }
        }
        disabledPaths = paths
        if let first { throw first }
    }

    /// Records the files dropped because they could not be created or written
    /// (``LogFileWriter/lostRecords``), summed over every stream.
    public var lostRecords: UInt64 {
        writers.reduce(lostBeforeDisabling) { $0 &+ ($1?.lostRecords ?? 0) }
    }
    /// What the files of streams disabled since lost.
    private var lostBeforeDisabling: UInt64 = 0

    /// Records stream `streamID`'s file dropped (``LogFileWriter/lostRecords``).
    public func lostRecords(streamID: UInt16) -> UInt64 {
        Int(streamID) < writers.count ? writers[Int(streamID)]?.lostRecords ?? 0 : 0
    }

    /// Bytes written to the files, summed over every stream.
    public var bytesWritten: UInt64 {
        writers.reduce(bytesBeforeDisabling) { $0 &+ ($1?.bytesWritten ?? 0) }
    }
    /// What the files of streams disabled since wrote.
    private var bytesBeforeDisabling: UInt64 = 0

    /// Formats and writes one record of stream `streamID`, or drops it if the stream is disabled.
    ///
    /// - Returns: `false` when the record was dropped because its stream is disabled.
    /// - Throws: ``LogWriterError`` naming the file when it cannot be created or written.
    @discardableResult
    public mutating func write(streamID: UInt16, record: UnsafeRawBufferPointer) throws(LogWriterError) -> Bool {
        let index = Int(streamID)
        precondition(
            index < writers.count && (writers[index] != nil || disabled[index]), "unknown log stream id \(streamID)")
        guard !disabled[index] else { return false }
        try writers[index]!.write(record)  // non-nil: known and not disabled, checked just above
        return true
    }

    /// Writes the record an encoder holds to its schema's stream, or drops it if the stream is disabled.
    ///
    /// - Returns: `false` when the record was dropped because its stream is disabled.
    /// - Throws: ``LogWriterError`` naming the file when it cannot be created or written.
    @discardableResult
    public mutating func write(_ encoder: LogRecordEncoder) throws(LogWriterError) -> Bool {
        encoder.finish()
        let streamID = encoder.schema.id
        var result: Result<Bool, LogWriterError> = .success(false)
        encoder.withBytes { record in
            do throws(LogWriterError) {
                result = .success(try write(streamID: streamID, record: record))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Writes out every file's buffered lines.
    ///
    /// - Throws: the first ``LogWriterError``; the remaining files are still flushed.
    public mutating func flush() throws(LogWriterError) {
        var first: LogWriterError?
        for index in writers.indices where writers[index] != nil {
            do throws(LogWriterError) {
                try writers[index]!.flush()  // non-nil by the loop's filter
            } catch {
                if first == nil { first = error }
            }
        }
        if let first { throw first }
    }

    /// Ends every open file with `#close` (TSV) and lets each stream's next record start a new file
    /// with its header (``LogFileWriter/reopen()``): external rotation.
    ///
    /// - Throws: the first ``LogWriterError``; the remaining files are still reopened.
    public mutating func reopenAll() throws(LogWriterError) {
        var first: LogWriterError?
        for index in writers.indices where writers[index] != nil {
            do throws(LogWriterError) {
                try writers[index]!.reopen()  // non-nil by the loop's filter
            } catch {
                if first == nil { first = error }
            }
        }
        if let first { throw first }
    }

    /// Ends every open file (``LogFileWriter/rotate()``).
    /// - Returns: where each file went, and the first ``LogWriterError`` (the remaining files are
    ///   still rotated).
    public mutating func rotateAll() -> (rotated: [LogFileWriter.Rotated], error: LogWriterError?) {
        var first: LogWriterError?
        var rotated: [LogFileWriter.Rotated] = []
        for index in writers.indices where writers[index] != nil {
            do throws(LogWriterError) {
                if let r = try writers[index]!.rotate() { rotated.append(r) }  // non-nil by the filter
            } catch {
                if first == nil { first = error }
            }
        }
        return (rotated, first)
    }

    /// Closes every file (TSV files get `#close`); streams that logged nothing leave no file.
    ///
    /// - Throws: the first ``LogWriterError``; the remaining files are still closed.
    public mutating func closeAll() throws(LogWriterError) {
        var first: LogWriterError?
        for index in writers.indices where writers[index] != nil {
            do throws(LogWriterError) {
                try writers[index]!.close()  // non-nil by the loop's filter
            } catch {
                if first == nil { first = error }
            }
        }
        if let first { throw first }
    }
}
