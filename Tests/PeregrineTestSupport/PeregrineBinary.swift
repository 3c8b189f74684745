// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The `peregrine` executable of this build, run as a separate process: for what only the real
/// command line shows (one-line errors and exit status, signals, thread names in /proc).
///
/// SwiftPM puts the executable next to the test bundle (`.build/<triple>/<configuration>/`), and
/// `swift test` builds it with the tests.
public enum PeregrineBinary {
    /// The executable's path, or `nil` when it is not built next to the test bundle.
    public static var path: String? {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidate = bundle.appendingPathComponent("peregrine").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    /// What a finished run printed and how it ended.
    public struct Result: Sendable {
        /// Exit status (or the signal number, for a run a signal ended).
        public let status: Int32
        /// Standard output and standard error together.
        public let output: String
    }

    /// Runs `arguments` (a command line whose first element is the program, e.g. `setpriv ...` or
    /// `ip netns exec NS <path> ...`) to completion.
    public static func run(_ arguments: [String]) throws -> Result {
        let process = try start(arguments)
        return process.wait()
    }

    /// Starts `arguments` in the background; stop it with ``Running/signal(_:)`` and ``Running/wait()``.
    public static func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return Running(process: process, pipe: pipe)
    }

    /// A process started by ``start(_:)``.
    public final class Running: @unchecked Sendable {
        let process: Process
        let pipe: Pipe

        init(process: Process, pipe: Pipe) {
            self.process = process
            self.pipe = pipe
        }

        /// The process id. `/usr/bin/env` and `ip netns exec` replace themselves with the program
        /// (`execvp`), so it is the program's own.
        public var pid: Int32 { process.processIdentifier }

        /// Sends `signal` (SIGINT, SIGHUP ...).
        public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

        /// Sends `signal` and waits up to `timeout` seconds for the process to end; one that is
        /// still running then is killed (SIGKILL, status 9), so a test never hangs on it.
        public func stop(_ signal: Int32 = SIGINT, timeout: TimeInterval = 60) -> Result {
            self.signal(signal)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            return wait()
        }

        /// Waits for the process to end and returns its status and output.
        public func wait() -> Result {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
        }
    }
}
