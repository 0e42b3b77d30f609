"""The append-only, hash-chained audit log every role writes to."""
