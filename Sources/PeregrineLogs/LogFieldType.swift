// SPDX-License-Identifier: Apache-2.0

/// The Zeek type of a log column, as written in a TSV `#types` line.
public enum LogFieldType: Sendable, Equatable {
    case time, interval, double, count, int, port, bool, addr, subnet, string, `enum`
    indirect case set(LogFieldType)
    indirect case vector(LogFieldType)

    /// The spelling in `#types` (`time`, `set[string]`, `vector[interval]`).
    public var zeekName: String {
        switch self {
        case .time: "time"
        case .interval: "interval"
        case .double: "double"
        case .count: "count"
        case .int: "int"
        case .port: "port"
        case .bool: "bool"
        case .addr: "addr"
        case .subnet: "subnet"
        case .string: "string"
        case .enum: "enum"
        case .set(let t): "set[\(t.zeekName)]"
        case .vector(let t): "vector[\(t.zeekName)]"
        }
    }
}
