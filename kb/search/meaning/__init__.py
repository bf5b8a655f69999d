"""Search by meaning: entries embedded part by part with a small offline model, fused with word search.

`model` loads the embedding model once per process; `parts` says what an entry's parts are;
`store` keeps each part's vector in the database; `matrix` holds them in each worker and
scores the viewer's visible entries; `layer.MeaningLayer` wraps the search backend (listed
in `kb.search.backend.LAYERS`). `SEARCH_MEANING=0` turns it off. docs/search.md says how it
works and why this model.
"""
