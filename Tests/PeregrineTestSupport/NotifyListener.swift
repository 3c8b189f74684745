// SPDX-License-Identifier: Apache-2.0
import Glibc

/// A datagram socket standing in for systemd's notification socket: bound to a path in a fresh
/// temporary directory, or to a name in the abstract namespace.
public final class NotifyListener: @unchecked Sendable {
    /// A setup step that failed, with its errno.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The value `NOTIFY_SOCKET` gets: the path, or `@name`.
    public let name: String
    private let descriptor: Int32
    private let directory: String?

    public init(abstract: Bool) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        // A receive timeout, so a message that never comes fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if abstract {
            // Unique per listener: parameterised tests run in parallel.
            name = "@peregrine-notify-test-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            directory = nil
            bytes = Array(name.utf8)
            bytes[0] = 0
        } else {
            var template = Array("/tmp/peregrine-notify.XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                throw Failure(description: "mkdtemp: errno \(errno)")
            }
            let dir = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
            directory = dir
            name = "\(dir)/notify"
            bytes = Array(name.utf8) + [0]
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw Failure(description: "bind(\(name)): errno \(errno)") }
    }

    deinit {
        close(descriptor)
        if let directory {
            unlink("\(directory)/notify")
            rmdir(directory)
        }
    }

    /// The next datagram, as text.
    public func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw Failure(description: "recv: errno \(errno)") }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}
