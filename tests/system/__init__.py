"""Cross-cutting suites: multi-process, faults, fuzz, throttling, migrations, concurrency."""
