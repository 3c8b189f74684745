// SPDX-License-Identifier: Apache-2.0

/// The one-byte tag in front of every value of an encoded record.
///
/// The encoding is private to this module and the same process: integers are little-endian, and a
/// record is only ever read by the writer thread of the process that wrote it.
enum LogValueTag: UInt8 {
    /// No value (`-` in TSV, omitted in JSON). No payload.
    case unset = 0
    /// Int64 nanoseconds since the epoch.
    case time = 1
    /// Int64 nanoseconds.
    case interval = 2
    /// The 8 bytes of a Double's bit pattern.
    case double = 3
    /// UInt64.
    case count = 4
    /// Int64.
    case int = 5
    /// UInt16.
    case port = 6
    /// Boolean false. No payload.
    case boolFalse = 7
    /// Boolean true. No payload.
    case boolTrue = 8
    /// `high`, `low` as two UInt64.
    case addr = 9
    /// The network as two UInt64, then one byte: the prefix length in the 128-bit form.
    case subnet = 10
    /// UInt32 length, then the bytes.
    case string = 11
    /// UInt32 length, then the identifier's bytes.
    case enumValue = 12
    /// One prefix byte, then `word0` and `word1` as two UInt64.
    case uid = 13
    /// UInt32 element count; the elements follow as values of their own.
    case set = 14
    /// UInt32 element count; the elements follow as values of their own.
    case vector = 15
}
