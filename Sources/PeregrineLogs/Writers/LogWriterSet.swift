// SPDX-License-Identifier: Apache-2.0

/// All log files of one run: the formatter choice, the log directory and one ``LogFileWriter`` per
/// stream, found by stream id. It lives on the writer thread, which drains the workers' rings into
/// ``write(streamID:record:)``.
public struct LogWriterSet {
    /// The directory the logs go to.
    public let directory: String
    /// The output options.
    public let options: LogOptions

    private var writers: [LogFileWriter?]

    /// Creates the set; no file is created until a stream's first record.
    ///
    /// - Parameters:
    ///   - directory: the log directory (the current directory for `peregrine -r`).
    ///   - schemas: every stream that may log; ids must be distinct.
    ///   - options: TSV or JSON and the JSON options.
    ///   - bufferCapacity: bytes buffered per file before a `write(2)`.
    ///   - clock: the wall clock for `#open`/`#close`, epoch seconds.
    public init(
        directory: String,
        schemas: [LogSchema],
        options: LogOptions = LogOptions(),
        bufferCapacity: Int = 64 * 1024,
        clock: @escaping () -> Int = WallClock.now
    ) {
        self.directory = directory
        self.options = options
        let formatter = LogFormatter(options: options)
        let size = (schemas.map { Int($0.id) }.max() ?? -1) + 1
        writers = Array(repeating: nil, count: size)
        for schema in schemas {
            precondition(writers[Int(schema.id)] == nil, "duplicate log stream id \(schema.id) (\(schema.path))")
            writers[Int(schema.id)] = LogFileWriter(
                schema: schema,
                directory: directory,
                formatter: formatter,
                bufferCapacity: bufferCapacity,
                clock: clock
            )
        }
    }

    /// Formats and writes one record of stream `streamID`.
    ///
    /// - Throws: ``LogWriterError`` naming the file when it cannot be created or written.
    public mutating func write(streamID: UInt16, record: UnsafeRawBufferPointer) throws(LogWriterError) {
        let index = Int(streamID)
        precondition(index < writers.count && writers[index] != nil, "unknown log stream id \(streamID)")
        try writers[index]!.write(record)  // checked just above
    }

    /// Writes the record an encoder holds to its schema's stream.
    ///
    /// - Throws: ``LogWriterError`` naming the file when it cannot be created or written.
    public mutating func write(_ encoder: LogRecordEncoder) throws(LogWriterError) {
        encoder.finish()
        let streamID = encoder.schema.id
        var result: Result<Void, LogWriterError> = .success(())
        encoder.withBytes { record in
            do throws(LogWriterError) {
                try write(streamID: streamID, record: record)
            } catch {
                result = .failure(error)
            }
        }
        try result.get()
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
