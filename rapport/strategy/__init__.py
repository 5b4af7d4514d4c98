"""The firm's connected strategy: which of the four experiences it offers through which of the five connection
architectures, to which segments and for which offerings (``strategy.yaml``), checked against what Rapport is
really configured to do, and measured cell by cell from the store (the 4 x 5 matrix)."""
