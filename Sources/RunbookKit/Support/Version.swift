public enum RunbookKitVersion { public static let string = "0.1.0" }
