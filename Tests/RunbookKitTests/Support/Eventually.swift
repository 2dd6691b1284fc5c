import Foundation

/// Polls `condition` every `interval` seconds for up to `seconds`: true as
/// soon as it holds, false if it never did.
func eventually(within seconds: Double = 10, every interval: Double = 0.05, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1e6))
    }
    return condition()
}
