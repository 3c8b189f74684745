// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file operation of a log writer, naming the file and the system's reason.
public struct LogWriterError: Error, Equatable, CustomStringConvertible {
    /// The operation that failed (`open`, `write`, `close`).
    public let operation: String
    /// The file it was applied to.
    public let path: String
    /// The `errno` value.
    public let errno: Int32

    /// Creates an error.
    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// `cannot write /var/log/peregrine/conn.log: No space left on device (errno 28)`.
    public var description: String {
        "cannot \(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
