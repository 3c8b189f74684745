// SPDX-License-Identifier: Apache-2.0

/// One thing wrong with a configuration: where it was said and why it cannot be used.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file's path, or ``ConfigurationProblem/commandLine`` for a value given as a flag.
    public let source: String
    /// The line in `source` (from 1); `nil` for the command line and for defaults the file left alone.
    public let line: Int?
    /// What is wrong, starting with the key's dotted path (`capture.workers: ...`).
    public let reason: String

    /// The `source` of problems with command-line values.
    public static let commandLine = "command line"

    /// - Parameters:
    ///   - source: the file's path or ``commandLine``.
    ///   - line: the line, from 1, or `nil`.
    ///   - reason: what is wrong.
    public init(source: String, line: Int?, reason: String) {
        self.source = source
        self.line = line
        self.reason = reason
    }

    /// `file:line: reason` (or `source: reason` without a line), as compilers print them.
    public var description: String {
        if let line { return "\(source):\(line): \(reason)" }
        return "\(source): \(reason)"
    }
}

/// Every problem found in a configuration, never just the first: what `peregrine check` prints and
/// why a start or reload refuses the file.
public struct ConfigurationProblems: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems of the file in line order (those without a line first), then those of the
    /// command line, in the order found.
    public let problems: [ConfigurationProblem]

    /// Sorts `problems` as described on ``problems``.
    public init(_ problems: [ConfigurationProblem]) {
        self.problems = problems.enumerated().sorted { a, b in
            let ka = Self.sortKey(a.element), kb = Self.sortKey(b.element)
            if ka.commandLine != kb.commandLine { return !ka.commandLine }
            if ka.line != kb.line { return ka.line < kb.line }
            return a.offset < b.offset
        }.map(\.element)
    }

    private static func sortKey(_ problem: ConfigurationProblem) -> (commandLine: Bool, line: Int) {
        (problem.source == ConfigurationProblem.commandLine, problem.line ?? 0)
    }

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
