// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The `bpf/` objects for tests: `bpf/build/` of this checkout, built with `make -C bpf` on first use
/// (once per test process), so a clean clone needs no extra step before `swift test`.
public enum BPFTestObjects {
    /// The package root (two levels above this file's folder).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `bpf/build`, built if needed.
    public static func directory() throws -> String {
        try built.get()
    }

    private static let built: Result<String, VethNamespaces.Failure> = {
        do {
            try VethNamespaces.run("make", "-s", "-C", packageRoot + "/bpf")
            return .success(packageRoot + "/bpf/build")
        } catch {
            return .failure(VethNamespaces.Failure("make -C bpf failed: \(error)"))
        }
    }()
}
