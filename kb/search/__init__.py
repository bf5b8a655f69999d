"""Full-text search: a Whoosh index that follows the database, queried through one visibility filter.

`service` is the interface the rest of kb uses (search, related entries, facets and
suggestions); `queue` keeps the index in step with committed changes; `storage` owns the
index directories, the writer lock and the per-thread searchers. `backend` says which engine
is in use (`SEARCH_BACKEND`): Whoosh, or `pg`, PostgreSQL full-text search in the database.
"""
