"""Full-text search: an index that follows the database, queried through one visibility filter.

`service` is the interface the rest of kb uses (search, related entries, facets and
suggestions); `interface` is what every engine implements, with its values in `types`;
`backend` chooses the engine once (`SEARCH_BACKEND`): Whoosh (`whoosh_backend`, over
`storage`, `indexing` and `whoosh_search`), or `pg`, PostgreSQL full-text search in the
database. `lifecycle` queues changes in their transaction and drains the `queue` after
the commit; `check` compares any backend with the database.
"""
