"""Training held up against the certified optimum: the sweep (`compare`), its files (`report`) and
figures (`plots`)."""
