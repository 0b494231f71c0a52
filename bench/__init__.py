"""`make bench`: the benchmark harness (not part of the app, not part of `make test`)."""
