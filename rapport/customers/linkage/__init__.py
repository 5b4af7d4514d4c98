"""Probabilistic identity resolution: the same person recognised across records that share no identifier.

- ``batch.link_people`` / ``link_files``: deduplicate one file or link several (`rapport link --input …`).
- ``proposals.link_store``: link the stored profiles, merge sure pairs, queue likely ones (`rapport link --store`);
  ``decide_review`` and ``list_reviews`` serve the review queue (`/v1/identity/reviews`).

Inside: ``roles`` (what each column holds), ``prepare`` (cleaning), ``comparisons`` and ``blocking`` (the Splink
settings chosen from the columns found), ``model`` (training and scoring on Splink over DuckDB), ``thresholds``
(the label-free cut-off), ``evaluation`` (scores against labels), ``files`` (reading inputs), ``attributes`` (a
stored profile's attributes), ``ports`` (what it needs from the store).
"""
