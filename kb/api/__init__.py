"""The JSON API at `/api/v1`: entries, search, comments, reviews and consultations, read and written with a token.

`kb.api.routes.init_app` binds it to the app: the token doorway (`auth`), the blueprint
of reads (`reads`) and writes (`writes`), the OpenAPI document (`openapi`) and its
readable page. Errors anywhere under `/api/` answer `application/problem+json` (`problems`).
"""
