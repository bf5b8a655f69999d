"""Documents attached to entries: the files, their versions, and the text read from them."""
