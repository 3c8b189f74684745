// SPDX-License-Identifier: Apache-2.0

/// A setup failure the command line reports as one line and a non-zero exit.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
