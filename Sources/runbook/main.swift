import RunbookKit
print(RunbookKitVersion.string)
