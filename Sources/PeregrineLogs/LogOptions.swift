// SPDX-License-Identifier: Apache-2.0

/// How JSON logs render `time` values (Zeek's `LogAscii::json_timestamps`).
public enum JSONTimestampFormat: Sendable, Equatable {
    /// `JSON::TS_EPOCH` (default): epoch seconds as a JSON number (`1300475167.096535`).
    case epoch
    /// `JSON::TS_MILLIS`: signed integer milliseconds since the epoch.
    case millis
    /// `JSON::TS_MILLIS_UNSIGNED`: unsigned integer milliseconds since the epoch.
    case millisUnsigned
    /// `JSON::TS_ISO8601`: a UTC string with 6 fractional digits (`"2008-07-09T16:13:30.005432Z"`).
    case iso8601
}

/// Output options mirroring Zeek's `LogAscii::*` script options.
public struct LogOptions: Sendable, Equatable {
    /// `LogAscii::use_json`: write JSON lines instead of TSV.
    public var useJSON: Bool
    /// `LogAscii::json_timestamps`.
    public var jsonTimestamps: JSONTimestampFormat
    /// `LogAscii::json_include_unset_fields`: write unset fields as `null` instead of omitting them.
    public var jsonIncludeUnsetFields: Bool

    /// Creates options; the defaults are Zeek's.
    public init(
        useJSON: Bool = false,
        jsonTimestamps: JSONTimestampFormat = .epoch,
        jsonIncludeUnsetFields: Bool = false
    ) {
        self.useJSON = useJSON
        self.jsonTimestamps = jsonTimestamps
        self.jsonIncludeUnsetFields = jsonIncludeUnsetFields
    }
}
