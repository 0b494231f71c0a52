"""One test module per route module: every route's tests in one place."""
