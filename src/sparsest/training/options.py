"""Names of the continuous methods and training schedules.

Kept apart from :mod:`sparsest.training.trainer` (PyTorch) and :mod:`sparsest.training.convex` (cvxpy) so that the
command line can offer them as choices without importing either library.
"""

#: Gradient methods of :class:`sparsest.training.trainer.LpTrainer`.
TRAIN_METHODS = ("lp", "lp-smooth", "weight-decay", "l1-path", "none")
#: Learning-rate / lambda schedules of :class:`sparsest.training.trainer.LpTrainer`.
SCHEDULES = ("paper", "continuation")
#: Methods solved over the block dictionary by :mod:`sparsest.training.convex` rather than trained.
CONVEX_METHODS = ("convex-l1", "convex-reweighted")
