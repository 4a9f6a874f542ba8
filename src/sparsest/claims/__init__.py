"""The theorem's claims: exact global l^p minimizers (`lp_minimizers`) and the checks C1-C6
(`checks`). See docs/math.md §4 and §7."""
