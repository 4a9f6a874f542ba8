"""The continuous side: the PyTorch l^p trainer (`trainer`), extraction and exact polish of a trained
network (`extract`), and the cvxpy l1 / reweighted-l1 solvers over the block dictionary (`convex`).
See docs/math.md §5. torch and cvxpy are imported only by the modules that need them."""
