"""Shared foundations: the dataset (`dataset`), the network and its counts (`network`), and the
independent re-check of a network against the data (`recheck`). See docs/math.md §1, §2, §6."""
