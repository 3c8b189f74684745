// SPDX-License-Identifier: Apache-2.0

/// The application analyzers the engine can attach to a connection.
///
/// Dispatch over analyzers is a static `switch` on this enum (style.md §4.3): no existentials on
/// the packet path. The raw value is what `Connection.analyzer` stores (0 = none attached).
public enum AnalyzerKind: UInt8, CaseIterable, Sendable {
    /// Zeek's `Analyzer::ANALYZER_DNS` (UDP here; TCP once reassembly feeds whole messages).
    case dns = 1
    /// Zeek's `Analyzer::ANALYZER_HTTP`.
    case http = 2

    /// The service this analyzer adds to conn.log's `service` on confirmation.
    public var service: ServiceID {
        switch self {
        case .dns: .dns
        case .http: .http
        }
    }
}
