// SPDX-License-Identifier: Apache-2.0
import Foundation
import PeregrineConfig
import PeregrineSystem

/// A machine with 8 online CPUs (0-7), 64 GiB and 4 KiB pages, so that checks do not depend on the
/// machine the tests run on.
let eightCPUs = SystemFacts(onlineCPUs: CPUSet(0..<8), memoryBytes: 64 << 30, pageSize: 4096)

/// The repository's root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A fresh empty directory under the system's temporary directory.
func temporaryDirectory() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("peregrine-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// Parses `yaml` as `test.yaml` on `system` (logs go to the current directory unless it names one).
func parse(
    _ yaml: String,
    overrides: CommandLineOverrides = CommandLineOverrides(),
    system: SystemFacts = eightCPUs
) -> Result<SensorSettings, ConfigurationProblems> {
    ConfigurationFile.parse(yaml: yaml, file: "test.yaml", overrides: overrides, system: system)
}

/// The problems' `file:line: reason` lines, or `[]` when the settings were accepted.
func problems(_ result: Result<SensorSettings, ConfigurationProblems>) -> [String] {
    switch result {
    case .success: return []
    case .failure(let problems): return problems.problems.map(\.description)
    }
}
