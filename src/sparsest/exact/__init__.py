"""The exact side: activation patterns -> block dictionary -> closed form / MILP / exhaustive
search -> certificate. See docs/math.md §3 and §4; the entry point is
:func:`sparsest.exact.certify.certify`."""
