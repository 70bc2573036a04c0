"""Score models on the bureau's own data: outcomes, training, registry, batch scores, evaluation.

The modelling core (estimators, artifacts, reason codes, metrics, reports) is
:mod:`openbureau.scoring`; this package runs it on the credit file and the feature tables.
"""
