// SPDX-License-Identifier: Apache-2.0

/// Reads every byte of a view an event carries and folds it into `checksum`, so AddressSanitizer
/// sees any view that reaches past its buffer.
@inline(never)
public func fuzzTouch(_ bytes: UnsafeRawBufferPointer, into checksum: inout UInt8) {
    for b in bytes { checksum &+= b }
}
